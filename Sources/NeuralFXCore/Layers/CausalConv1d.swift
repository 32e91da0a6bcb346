/// A causal, dilated 1-D convolution that streams.
///
/// Output frame `n` is `bias + sum_j W[:, :, j] * x[n - (k - 1 - j) * d]`, the
/// alignment PyTorch's unpadded `Conv1d` gives when its output is taken to
/// belong to the time of its newest tap. Weights arrive in PyTorch's
/// `[out, in / groups, kernel]` layout and are repacked tap-major with output
/// channels contiguous, so the inner loop is a vector FMA over outputs.
///
/// History lives in a ring of exactly the frames the convolution reads (its
/// history plus one block), followed by a copy of the ring's first block of
/// frames (or of `lookahead` frames, if more): any window up to that long is
/// one contiguous read, so the hot loop never wraps. Each tap reads its own
/// window. A ring rounded up to a power of two and mirrored whole would make
/// a widely dilated layer sweep through far more memory (uTCN-300-C: 4.7 MiB
/// instead of 1.7 at 64-frame blocks, against this machine's 2 MiB L2 cache).
///
/// Blocks shorter than `lookahead` frames (a dilated layer streaming sample
/// by sample) would stream all the weights from L2 for every few frames. But
/// every tap except the newest reads input at least `dilation` frames old, so
/// those taps' sums for the next `lookahead` frames are computed ahead, in one
/// tiled batch, and each short block adds only its newest tap. The sums are
/// formed in the same order as in a whole block (bias, then tap by tap), so
/// the output is bit-identical whatever the block sizes. The block that starts
/// a batch pays for it: at most what one 16-frame block costs, so a real-time
/// host's worst callback stays bounded; blocks of 16 frames or more never batch.
public final class CausalConv1d {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let dilation: Int
    public let groups: Int

    /// `[kernel][in / groups][out]`.
    let packedWeights: FloatBuffer
    let bias: FloatBuffer?

    private(set) var maxBlockSize = 0
    private var ringFrames = 0
    /// Frames repeated past the ring's end: the longest window read at once.
    private var guardFrames = 0
    /// `ringFrames + guardFrames` frames; the last `guardFrames` repeat the first.
    private var ring = FloatBuffer(count: 0)
    private var writeFrame = 0
    /// Each tap's window for the block being convolved.
    private var windows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 1)

    /// Output frames whose older taps are summed ahead for short blocks (0: never).
    public let lookahead: Int
    /// Bias plus all taps but the newest, for the next `lookahead` output frames.
    private var aheadSums = FloatBuffer(count: 0)
    private var aheadUsed = 0
    private var aheadLeft = 0

    /// Frames of past input the convolution reads.
    public var history: Int { (kernelSize - 1) * dilation }

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1, groups: Int = 1,
                weights: [Float], bias: [Float]? = nil) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && dilation > 0 && groups > 0)
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels must divide into groups")
        let inPerGroup = inChannels / groups
        precondition(weights.count == outChannels * inPerGroup * kernelSize, "weight count does not match shape")
        precondition(bias == nil || bias!.count == outChannels)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.groups = groups
        let packed = FloatBuffer(count: weights.count)
        for o in 0..<outChannels {
            for i in 0..<inPerGroup {
                for j in 0..<kernelSize {
                    packed[(j * inPerGroup + i) * outChannels + o] = weights[(o * inPerGroup + i) * kernelSize + j]
                }
            }
        }
        packedWeights = packed
        self.bias = bias.map(FloatBuffer.init)
        lookahead = groups == 1 && kernelSize > 1 ? Self.lookahead(dilation: dilation, outChannels: outChannels) : 0
    }

    /// The batch made ahead: at most `min(dilation, 16)` frames, and as many
    /// as the tiled kernels cover whole (with 12-frame tiles, 10 frames would
    /// leave two to the single-frame kernel, which then runs every older tap
    /// as a latency-bound chain: 8 is faster). Batches shorter than 4 frames
    /// would not reach the tiled kernels.
    static func lookahead(dilation: Int, outChannels: Int) -> Int {
        var frames = min(dilation, 16)
        while frames >= 4 && ConvolutionKernel.singleFrames(in: frames, outChannels: outChannels) > 0 { frames -= 1 }
        return frames >= 4 ? frames : 0
    }

    /// Allocates the history for blocks of up to `maxBlockSize` frames.
    /// `extraHistory` keeps that many more past frames readable through
    /// `pastInput` (a block's residual path reads its input one frame late).
    public func prepare(maxBlockSize: Int, extraHistory: Int = 1) {
        precondition(maxBlockSize > 0)
        self.maxBlockSize = maxBlockSize
        ringFrames = history + extraHistory + maxBlockSize
        guardFrames = max(maxBlockSize, lookahead)
        ring = FloatBuffer(count: (ringFrames + guardFrames) * inChannels)
        writeFrame = 0
        aheadSums = FloatBuffer(count: lookahead * outChannels)
        aheadUsed = 0
        aheadLeft = 0
        windows.deallocate()
        windows = .allocate(capacity: kernelSize)
        windows.initialize(repeating: UnsafePointer(ring.pointer), count: kernelSize)
    }

    deinit { windows.deallocate() }

    /// Fills the whole history with one frame, as if that input had always
    /// been arriving.
    public func reset(steadyInput: UnsafePointer<Float>? = nil) {
        writeFrame = 0
        aheadLeft = 0
        guard let steady = steadyInput else { ring.fill(0); return }
        for f in 0..<(ringFrames + guardFrames) {
            (ring.pointer + f * inChannels).update(from: steady, count: inChannels)
        }
    }

    public var stateBytes: Int { ring.byteCount }

    /// Appends `frames` input frames to the history. Call once per block
    /// before `convolve` and `pastInput`.
    @inlinable
    public func push(_ input: UnsafePointer<Float>, frames: Int) {
        pushFrames(input, frames)
    }

    @usableFromInline
    func pushFrames(_ input: UnsafePointer<Float>, _ frames: Int) {
        precondition(frames <= maxBlockSize)
        let c = inChannels
        var f = 0
        while f < frames {
            let slot = (writeFrame + f) % ringFrames
            let run = min(frames - f, ringFrames - slot)
            let src = input + f * c
            (ring.pointer + slot * c).update(from: src, count: run * c)
            // Frames landing in the first `guardFrames` slots are repeated past the end.
            let repeated = min(run, guardFrames - slot)
            if repeated > 0 { (ring.pointer + (slot + ringFrames) * c).update(from: src, count: repeated * c) }
            f += run
        }
        writeFrame = (writeFrame + frames) % ringFrames
    }

    /// Time-major input frames of the last pushed block, delayed by `delay`
    /// frames: frame `t` of the result is the input at `t - delay`. Readable
    /// for up to `max(maxBlockSize, lookahead)` frames.
    public func pastInput(frames: Int, delay: Int) -> UnsafePointer<Float> {
        let start = (writeFrame - frames - delay + 2 * ringFrames) % ringFrames
        return UnsafePointer(ring.pointer + start * inChannels)
    }

    /// Computes the outputs for the last pushed block of `frames` frames into
    /// `output` (time-major, `outChannels` per frame).
    public func convolve(frames: Int, into output: UnsafeMutablePointer<Float>) {
        let cout = outChannels
        let inPerGroup = inChannels / groups
        let outPerGroup = outChannels / groups
        if groups == 1 {
            if frames < lookahead {
                convolveAhead(frames: frames, into: output)
                return
            }
            // A whole block computes every tap itself; sums made ahead are dropped.
            aheadLeft = 0
            // Tap j reads the block's frames `(k - 1 - j) * dilation` frames late.
            for j in 0..<kernelSize {
                windows[j] = pastInput(frames: frames, delay: (kernelSize - 1 - j) * dilation)
            }
            ConvolutionKernel.run(into: output, start: .bias(bias.map { UnsafePointer($0.pointer) }),
                                  windows: UnsafePointer(windows), taps: kernelSize,
                                  weights: packedWeights.pointer, frames: frames,
                                  inChannels: inChannels, outChannels: cout)
            return
        }
        for t in 0..<frames {
            let dst = output + t * cout
            if let b = bias { dst.update(from: b.pointer, count: cout) } else { dst.update(repeating: 0, count: cout) }
        }
        for j in 0..<kernelSize {
            let src = pastInput(frames: frames, delay: (kernelSize - 1 - j) * dilation)
            let tapWeights = packedWeights.pointer + j * inPerGroup * cout
            for t in 0..<frames {
                let x = src + t * inChannels
                let dst = output + t * cout
                for o in 0..<cout {
                    let g = o / outPerGroup
                    var acc: Float = 0
                    for i in 0..<inPerGroup { acc += tapWeights[i * cout + o] * x[g * inPerGroup + i] }
                    dst[o] += acc
                }
            }
        }
    }

    /// A short block: the older taps' sums come from the batch made ahead
    /// (making the next batch when it runs out), then the newest tap is added.
    private func convolveAhead(frames: Int, into output: UnsafeMutablePointer<Float>) {
        let cout = outChannels
        var done = 0
        while done < frames {
            if aheadLeft == 0 {
                // Output frames `done ..< done + lookahead` of this block; tap j reads
                // them `lag` frames late, all at least `dilation >= lookahead` frames old.
                for j in 0..<(kernelSize - 1) {
                    let lag = (kernelSize - 1 - j) * dilation
                    windows[j] = pastInput(frames: lookahead, delay: frames - done - lookahead + lag)
                }
                ConvolutionKernel.run(into: aheadSums.pointer, start: .bias(bias.map { UnsafePointer($0.pointer) }),
                                      windows: UnsafePointer(windows), taps: kernelSize - 1,
                                      weights: packedWeights.pointer, frames: lookahead,
                                      inChannels: inChannels, outChannels: cout)
                aheadUsed = 0
                aheadLeft = lookahead
            }
            let n = min(aheadLeft, frames - done)
            (output + done * cout).update(from: aheadSums.pointer + aheadUsed * cout, count: n * cout)
            aheadUsed += n
            aheadLeft -= n
            done += n
        }
        windows[0] = pastInput(frames: frames, delay: 0)
        ConvolutionKernel.run(into: output, start: .existing, windows: UnsafePointer(windows), taps: 1,
                              weights: packedWeights.pointer + (kernelSize - 1) * inChannels * cout, frames: frames,
                              inChannels: inChannels, outChannels: cout)
    }

    /// Convenience: push then convolve.
    public func process(_ input: UnsafePointer<Float>, frames: Int, into output: UnsafeMutablePointer<Float>) {
        push(input, frames: frames)
        convolve(frames: frames, into: output)
    }

    /// The output for an input that has been constant forever.
    public func steadyOutput(for input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let inPerGroup = inChannels / groups
        let outPerGroup = outChannels / groups
        for o in 0..<outChannels {
            let g = o / outPerGroup
            var acc: Float = bias?[o] ?? 0
            for j in 0..<kernelSize {
                for i in 0..<inPerGroup {
                    acc += packedWeights[(j * inPerGroup + i) * outChannels + o] * input[g * inPerGroup + i]
                }
            }
            output[o] = acc
        }
    }
}
