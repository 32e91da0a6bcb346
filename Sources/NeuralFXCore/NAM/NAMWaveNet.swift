/// The running NAM WaveNet.
///
/// Signals are channel-major: each channel is a row of the block's frames
/// (rows padded to whole 16-frame tiles), so every convolution is a
/// `NAMTimeKernel` pass whose vectors run over time and are full width for
/// any channel count. Output channels are padded to 4, 8 or a multiple of 16
/// with zero weights; padded rows are never read as inputs. Each layer keeps
/// its input history in a `ChannelRing`. Work runs layer by layer over the
/// whole block, so each weight is loaded once per 16 frames.
///
/// Silence state: NeuralAmpModelerCore prewarms a WaveNet by running zeros
/// through it for its receptive field, and the Python reference pads the
/// input with that many zeros; both leave every layer's history at the
/// constant it holds after silence. `prepare` computes those constants once
/// (by the same zero run) and `reset` fills the rings with them, so output
/// after `reset` equals the reference's zero-padded output.
///
/// Knobs: NeuralFX's WaveNet model files extend NAM's condition (the audio
/// sample) by `conditioningSize` knob values. The mixer is a 1x1 of the
/// condition, so with the knobs constant between `setConditioning` calls
/// their columns add a constant to every layer's convolution bias:
/// `setConditioning` folds them into `convBias` (a handful of multiply-adds
/// per layer), and the kernels run exactly as for an unconditioned file. The
/// silence state then depends on the knobs; `reset` walks one constant frame
/// through the layers to find it (`settleSilence`), as micro-tcn does.
public final class NAMWaveNet: StreamingNetwork {
    // Layers and arrays hold plain pointers into `storage`, so walking them
    // in `process` does no reference counting.
    struct Layer {
        let dilation: Int
        /// `[tap][in][convRows]`, primary rows then (gated) gate rows.
        let conv: UnsafeMutablePointer<Float>
        /// The bias the kernels add: the file's plus the knobs' share of the mixer.
        let convBias: UnsafeMutablePointer<Float>
        /// The file's convolution bias, and the mixer's knob columns `[knob][convRows]`.
        let fileConvBias: UnsafeMutablePointer<Float>
        let knobMix: UnsafeMutablePointer<Float>
        /// The mixer's audio column.
        let mix: UnsafeMutablePointer<Float>
        /// `[in][rows]` and bias.
        let pointwise: UnsafeMutablePointer<Float>
        let pointwiseBias: UnsafeMutablePointer<Float>
        let steady: UnsafeMutablePointer<Float>
    }

    struct LayerArray {
        let channels: Int
        let inputSize: Int
        let kernelSize: Int
        let gated: Bool
        let activation: NAMActivation
        /// Padded output rows of the residual stream and of the head rechannel.
        let rows: Int
        let headRows: Int
        /// `[in][rows]`.
        let rechannel: UnsafeMutablePointer<Float>
        let layers: UnsafeBufferPointer<Layer>
        let firstRing: Int
        /// `[channels][headRows]` and bias (zero when the file has none).
        let headRechannel: UnsafeMutablePointer<Float>
        let headRechannelBias: UnsafeMutablePointer<Float>
        var convRows: Int { gated ? 2 * rows : rows }
    }

    public let blueprint: NAMWaveNetBlueprint
    let arrays: UnsafeMutableBufferPointer<LayerArray>
    private let storage: [FloatBuffer]
    private let layerLists: [UnsafeMutableBufferPointer<Layer>]
    private var rings: [ChannelRing] = []
    let headScale: Float
    /// The optional post-head: (weight `[out][in]`, bias) per block.
    let head: [(weight: [Float], bias: [Float], cin: Int, cout: Int)]
    let precision: NAMActivationPrecision
    /// Knob values after the audio in the condition (0 for a .nam capture).
    let knobCount: Int

    private var maxBlock = 0
    /// Frames per row: the largest block rounded up to whole tiles.
    private var rowStride = 0
    private var audio = FloatBuffer(count: 0)
    private var residualA = FloatBuffer(count: 0), residualB = FloatBuffer(count: 0)
    private var mid = FloatBuffer(count: 0), activated = FloatBuffer(count: 0)
    private var headA = FloatBuffer(count: 0), headB = FloatBuffer(count: 0)
    private let headScratch: FloatBuffer
    /// One frame's vectors for `processFrame`: residual, next residual,
    /// activation, head, head output, and (twice as long) the convolution's
    /// output, `frameRows` floats each; then the audio sample; then `history`.
    private let frameScratch: FloatBuffer
    private let framePointer: UnsafeMutablePointer<Float>
    private let frameRows: Int
    private let hasPostHead: Bool
    /// Blocks shorter than this run frame by frame (`NAMFrameKernel.largestBlock`).
    private let frameBlockLimit: Int
    /// Each layer's older taps for the frame, `2 * frameRows` floats apart.
    private var history: UnsafeMutablePointer<Float> { framePointer + 7 * frameRows + 1 }
    /// `rings`, for walking them frame by frame without reference counting.
    private var ringReferences = UnsafeMutableBufferPointer<Unmanaged<ChannelRing>>(start: nil, count: 0)

    static func paddedRows(_ channels: Int) -> Int { channels <= 4 ? 4 : channels <= 8 ? 8 : (channels + 15) / 16 * 16 }
    /// `NAMFrameKernel` loads 4-row layers' weights and biases 8 at a time
    /// (a 4-wide load into a 16-lane vector cost a third more per frame):
    /// every buffer it loads from ends with this many spare floats, and the
    /// lanes past the real rows hold sums nothing reads.
    static let frameLoadSlack = 4

    public init(_ blueprint: NAMWaveNetBlueprint) {
        self.blueprint = blueprint
        precision = blueprint.precision
        knobCount = blueprint.config.knobCount
        let knobCount = self.knobCount
        var cursor = 0
        let w = blueprint.weights
        func take(_ n: Int) -> ArraySlice<Float> {
            defer { cursor += n }
            return w[cursor..<(cursor + n)]
        }
        var arrays: [LayerArray] = []
        var storage: [FloatBuffer] = [], layerLists: [UnsafeMutableBufferPointer<Layer>] = []
        func keep(_ b: FloatBuffer) -> UnsafeMutablePointer<Float> {
            storage.append(b)
            return b.pointer
        }
        var ringCount = 0
        for c in blueprint.config.layerArrays {
            let rows = Self.paddedRows(c.channels)
            let convRows = c.gated ? 2 * rows : rows
            // PyTorch [out][in] (kernel 1) -> [in][outRows].
            func pointwise(_ cout: Int, _ cin: Int, _ outRows: Int) -> FloatBuffer {
                let packed = FloatBuffer(count: cin * outRows + Self.frameLoadSlack)
                let v = take(cout * cin)
                for o in 0..<cout { for i in 0..<cin { packed[i * outRows + o] = v[v.startIndex + o * cin + i] } }
                return packed
            }
            let rechannel = pointwise(c.channels, c.inputSize, rows)
            var layers: [Layer] = []
            for d in c.dilations {
                let k = c.kernelSize
                // Padded row of conv output channel o.
                func row(_ o: Int) -> Int { o < c.channels ? o : rows + (o - c.channels) }
                let convW = take(c.convChannels * c.channels * k)
                let conv = FloatBuffer(count: k * c.channels * convRows + Self.frameLoadSlack)
                for o in 0..<c.convChannels {
                    for i in 0..<c.channels {
                        for j in 0..<k { conv[(j * c.channels + i) * convRows + row(o)] = convW[convW.startIndex + (o * c.channels + i) * k + j] }
                    }
                }
                let convBias = FloatBuffer(count: convRows + Self.frameLoadSlack), fileConvBias = FloatBuffer(count: convRows)
                for (o, v) in take(c.convChannels).enumerated() { convBias[row(o)] = v; fileConvBias[row(o)] = v }
                // Mixer `[out][condition]`: the audio column, then one per knob.
                let mixer = take(c.convChannels * c.conditionSize)
                let mix = FloatBuffer(count: convRows + Self.frameLoadSlack), knobMix = FloatBuffer(count: knobCount * convRows)
                for o in 0..<c.convChannels {
                    mix[row(o)] = mixer[mixer.startIndex + o * c.conditionSize]
                    for k in 0..<knobCount { knobMix[k * convRows + row(o)] = mixer[mixer.startIndex + o * c.conditionSize + 1 + k] }
                }
                let pw = pointwise(c.channels, c.channels, rows)
                let pointwiseBias = FloatBuffer(count: rows + Self.frameLoadSlack)
                for (o, v) in take(c.channels).enumerated() { pointwiseBias[o] = v }
                layers.append(Layer(dilation: d, conv: keep(conv), convBias: keep(convBias),
                                    fileConvBias: keep(fileConvBias),
                                    knobMix: keep(knobMix), mix: keep(mix),
                                    pointwise: keep(pw), pointwiseBias: keep(pointwiseBias),
                                    steady: keep(FloatBuffer(count: c.channels))))
            }
            let headRows = Self.paddedRows(c.headSize)
            let headRechannel = pointwise(c.headSize, c.channels, headRows)
            let headBias = FloatBuffer(count: headRows + Self.frameLoadSlack)
            if c.headBias { for (o, v) in take(c.headSize).enumerated() { headBias[o] = v } }
            let layerList = UnsafeMutableBufferPointer<Layer>.allocate(capacity: layers.count)
            _ = layerList.initialize(from: layers)
            layerLists.append(layerList)
            arrays.append(LayerArray(channels: c.channels, inputSize: c.inputSize, kernelSize: c.kernelSize,
                                     gated: c.gated, activation: c.activation, rows: rows, headRows: headRows,
                                     rechannel: keep(rechannel), layers: UnsafeBufferPointer(layerList),
                                     firstRing: ringCount, headRechannel: keep(headRechannel),
                                     headRechannelBias: keep(headBias)))
            ringCount += layers.count
        }
        self.arrays = .allocate(capacity: arrays.count)
        _ = self.arrays.initialize(from: arrays)
        self.storage = storage
        self.layerLists = layerLists
        var head: [(weight: [Float], bias: [Float], cin: Int, cout: Int)] = []
        if let h = blueprint.config.head {
            for (cin, cout) in h.widths(inChannels: blueprint.config.layerArrays.last!.headSize) {
                head.append((Array(take(cin * cout)), Array(take(cout)), cin, cout))
            }
        }
        self.head = head
        headScale = w[cursor]
        precondition(cursor + 1 == w.count)
        let widest = max(blueprint.config.head?.channels ?? 1, blueprint.config.layerArrays.last!.headSize)
        headScratch = FloatBuffer(count: 2 * widest)
        // Whole vectors: 16-lane stores of 8-row layers stay inside.
        frameRows = (arrays.map { max($0.convRows, $0.headRows, 16) }.max()! + 15) / 16 * 16
        frameScratch = FloatBuffer(count: 7 * frameRows + 1 + arrays.map(\.layers.count).max()! * 2 * frameRows)
        framePointer = frameScratch.pointer
        hasPostHead = !head.isEmpty
        frameBlockLimit = NAMFrameKernel.largestBlock(widestRows: arrays.map { max($0.convRows, $0.headRows) }.max()!)
    }

    deinit {
        ringReferences.deallocate()
        for list in layerLists { list.deallocate() }
        arrays.deallocate()
    }

    public var conditioningSize: Int { knobCount }
    public var receptiveField: Int { blueprint.config.receptiveField }
    public var multiplyAddsPerSample: Int { blueprint.weights.count }
    public var stateBytes: Int {
        rings.reduce(0) { $0 + $1.byteCount }
            + [audio, residualA, residualB, mid, activated, headA, headB].reduce(0) { $0 + $1.byteCount }
    }

    public func prepare(maxBlockSize: Int) {
        precondition(maxBlockSize > 0)
        maxBlock = maxBlockSize
        rowStride = (maxBlockSize + 15) / 16 * 16
        let rows = arrays.map { max($0.rows, $0.headRows) }.max()!
        audio = FloatBuffer(count: rowStride)
        residualA = FloatBuffer(count: rows * rowStride)
        residualB = FloatBuffer(count: rows * rowStride)
        mid = FloatBuffer(count: 2 * rows * rowStride)
        activated = FloatBuffer(count: rows * rowStride)
        headA = FloatBuffer(count: rows * rowStride)
        headB = FloatBuffer(count: rows * rowStride)
        rings = []
        for a in arrays {
            for l in a.layers {
                rings.append(ChannelRing(channels: a.channels, history: (a.kernelSize - 1) * l.dilation, maxFrames: rowStride + 1))
            }
        }
        ringReferences.deallocate()
        ringReferences = .allocate(capacity: rings.count)
        _ = ringReferences.initialize(from: rings.map { Unmanaged.passUnretained($0) })
        // A knob-conditioned network finds its silence state in `reset`, for
        // the knobs then in force.
        guard knobCount == 0 else { reset(); return }
        // Prewarm (off the audio thread): zeros for the receptive field, then
        // keep each layer's newest input as its silence constant.
        for r in rings { r.fill(nil) }
        let zeros = FloatBuffer(count: maxBlockSize)
        let sink = FloatBuffer(count: maxBlockSize)
        var remaining = receptiveField
        while remaining > 0 {
            let n = min(remaining, maxBlockSize)
            process(zeros.pointer, sink.pointer, frameCount: n)
            remaining -= n
        }
        for a in arrays {
            for (n, l) in a.layers.enumerated() {
                for c in 0..<a.channels { l.steady[c] = rings[a.firstRing + n].newest(c) }
            }
        }
        reset()
    }

    /// Folds the knobs' mixer columns into every layer's bias, in the order
    /// the training network sums them (bias first, then knob by knob).
    public func setConditioning(_ values: UnsafePointer<Float>) {
        guard knobCount > 0 else { return }
        for a in arrays {
            for l in a.layers {
                for r in 0..<a.convRows {
                    var b = l.fileConvBias[r]
                    for k in 0..<knobCount { b += l.knobMix[k * a.convRows + r] * values[k] }
                    l.convBias[r] = b
                }
            }
        }
    }

    public func reset() {
        guard maxBlock > 0 else { return }
        if knobCount > 0 { settleSilence() }
        for a in arrays { for (n, l) in a.layers.enumerated() { rings[a.firstRing + n].fill(l.steady) } }
    }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        precondition(frameCount <= maxBlock, "block larger than prepared")
        guard frameCount > 0 else { return }
        if frameCount < frameBlockLimit {
            for t in 0..<frameCount { output[t] = processFrame(input[t]) }
            return
        }
        // The kernels read whole tiles; the audio row is padded here.
        audio.pointer.update(from: input, count: frameCount)
        let tiled = (frameCount + 15) / 16 * 16
        var source = UnsafePointer(audio.pointer)
        var headIn = headA.pointer, headOut = headB.pointer
        for index in 0..<arrays.count {
            source = UnsafePointer(runArray(arrays[index], source, headIn: headIn, headOut: headOut, first: index == 0,
                                            last: index == arrays.count - 1, frames: frameCount, tiled: tiled))
            swap(&headIn, &headOut)
        }
        // `headIn` now holds the last array's head output, row 0 the mono signal.
        if head.isEmpty {
            for t in 0..<frameCount { output[t] = headScale * headIn[t] }
        } else {
            for t in 0..<frameCount { output[t] = applyHead(headIn + t, stride: rowStride) }
        }
    }

    /// One layer array over a block; returns the buffer holding its residual
    /// output. The residual stream alternates between `residualA` and
    /// `residualB` (starting in whichever does not hold `source`); the head
    /// accumulator lives in `headIn` and the head rechannel writes `headOut`
    /// (the next array's starting accumulator).
    @inline(__always)
    private func runArray(_ a: LayerArray, _ source: UnsafePointer<Float>, headIn: UnsafeMutablePointer<Float>,
                          headOut: UnsafeMutablePointer<Float>, first: Bool, last: Bool,
                          frames: Int, tiled: Int) -> UnsafeMutablePointer<Float> {
        let stride = rowStride
        var x = residualA.pointer, next = residualB.pointer
        if source == UnsafePointer(x) { swap(&x, &next) }
        NAMTimeKernel.run(.init(pointer: x, rowStride: stride), rows: a.rows, weights: a.rechannel,
                          source: .init(pointer: source, inputs: a.inputSize, rowStride: stride),
                          initial: .init(), frames: tiled)
        if first { headIn.update(repeating: 0, count: a.channels * stride) }
        let z = activated.pointer, m = mid.pointer, audioRow = UnsafePointer(audio.pointer)
        let fusedTanh = !a.gated && a.activation == .tanh && precision == .fast
        for (n, l) in a.layers.enumerated() {
            let ring = rings[a.firstRing + n]
            ring.push(UnsafePointer(x), sourceRowStride: stride, frames: frames)
            let window = ring.window(frames: frames, delay: (a.kernelSize - 1) * l.dilation)
            NAMTimeKernel.run(fusedTanh ? .init(pointer: m, rowStride: stride, activated: z, head: headIn)
                                        : .init(pointer: m, rowStride: stride),
                              rows: a.convRows, weights: l.conv,
                              source: .init(pointer: window, inputs: a.channels, rowStride: ring.rowStride,
                                            taps: a.kernelSize, tapOffset: l.dilation),
                              initial: .init(bias: l.convBias, mix: l.mix, audio: audioRow), frames: tiled)
            if !fusedTanh { activate(a, mid: m, into: z, head: headIn, tiled: tiled) }
            // The last layer's residual output feeds nothing.
            if !(last && n == a.layers.count - 1) {
                NAMTimeKernel.run(.init(pointer: next, rowStride: stride), rows: a.rows, weights: l.pointwise,
                                  source: .init(pointer: z, inputs: a.channels, rowStride: stride),
                                  initial: .init(bias: l.pointwiseBias, addend: x, addendRowStride: stride),
                                  frames: tiled)
            }
            swap(&x, &next)
        }
        NAMTimeKernel.run(.init(pointer: headOut, rowStride: stride), rows: a.headRows, weights: a.headRechannel,
                          source: .init(pointer: headIn, inputs: a.channels, rowStride: stride),
                          initial: .init(bias: a.headRechannelBias), frames: tiled)
        return x
    }

    /// One frame through every layer, vectors running over channels (see
    /// `NAMFrameKernel`). Only the rings carry state between calls, so this
    /// and the block path take turns freely.
    private func processFrame(_ sample: Float) -> Float {
        let width = frameRows, f = framePointer
        var x = f, next = f + width
        let z = f + 2 * width, head = f + 3 * width, headOut = f + 4 * width, mid = f + 5 * width
        f[7 * width] = sample
        for index in 0..<arrays.count {
            let a = arrays[index]
            let newestTap = a.kernelSize - 1
            // Every layer's older taps read only history: computed first,
            // side by side, they leave the chain from layer to layer with the
            // newest tap alone.
            for (n, l) in a.layers.enumerated() where newestTap > 0 {
                let ring = ringReferences[a.firstRing + n]._withUnsafeGuaranteedRef { ($0.window(frames: 0, delay: newestTap * l.dilation), $0.rowStride) }
                NAMFrameKernel.product(into: history + n * 2 * width, rows: a.convRows, weights: l.conv, inputs: a.channels,
                                       source: ring.0, sourceStride: ring.1, taps: newestTap, tapOffset: l.dilation,
                                       initial: .init(bias: l.convBias, mix: l.mix, audio: sample))
            }
            // The first array reads the audio, the others the residual
            // stream before them.
            NAMFrameKernel.product(into: next, rows: a.rows, weights: a.rechannel, inputs: a.inputSize,
                                   source: index == 0 ? f + 7 * width : x, initial: nil)
            swap(&x, &next)
            if index == 0 { head.update(repeating: 0, count: a.rows) } else { head.update(from: headOut, count: a.rows) }
            for (n, l) in a.layers.enumerated() {
                // Unretained: the rings live as long as the network.
                ringReferences[a.firstRing + n]._withUnsafeGuaranteedRef { $0.push(frame: x) }
                NAMFrameKernel.product(into: mid, rows: a.convRows, weights: l.conv + newestTap * a.channels * a.convRows,
                                       inputs: a.channels, source: x,
                                       initial: newestTap > 0 ? .init(addend: history + n * 2 * width)
                                                              : .init(bias: l.convBias, mix: l.mix, audio: sample))
                NAMFrameKernel.activate(mid, into: z, head: head, rows: a.rows, gated: a.gated, activation: a.activation,
                                        precision: precision)
                // The last layer's residual output feeds nothing.
                if !(index == arrays.count - 1 && n == a.layers.count - 1) {
                    NAMFrameKernel.product(into: next, rows: a.rows, weights: l.pointwise, inputs: a.channels, source: z,
                                           initial: .init(bias: l.pointwiseBias, addend: x))
                    swap(&x, &next)
                }
            }
            NAMFrameKernel.product(into: headOut, rows: a.headRows, weights: a.headRechannel, inputs: a.channels,
                                   source: head, initial: .init(bias: a.headRechannelBias))
        }
        return hasPostHead ? applyHead(headOut, stride: 1) : headScale * headOut[0]
    }

    /// Each layer's input after endless silence under the current knobs,
    /// into `steady`: with a constant input every tap of a convolution reads
    /// the same frame, so one frame through the layers with the taps summed
    /// (`tapOffset` 0) gives it. The head does not feed the layers and is
    /// left out. Allocation-free (it runs on the audio thread when the engine
    /// resets).
    private func settleSilence() {
        let width = frameRows, f = framePointer
        var x = f, next = f + width
        let z = f + 2 * width, head = f + 3 * width, mid = f + 5 * width
        for index in 0..<arrays.count {
            let a = arrays[index]
            // The first array's rechannel of silence is zero (it has no bias).
            if index == 0 {
                x.update(repeating: 0, count: width)
            } else {
                NAMFrameKernel.product(into: next, rows: a.rows, weights: a.rechannel, inputs: a.inputSize, source: x, initial: nil)
                swap(&x, &next)
            }
            head.update(repeating: 0, count: width)
            for l in a.layers {
                l.steady.update(from: x, count: a.channels)
                NAMFrameKernel.product(into: mid, rows: a.convRows, weights: l.conv, inputs: a.channels, source: x,
                                       taps: a.kernelSize, tapOffset: 0, initial: .init(bias: l.convBias))
                NAMFrameKernel.activate(mid, into: z, head: head, rows: a.rows, gated: a.gated, activation: a.activation,
                                        precision: precision)
                NAMFrameKernel.product(into: next, rows: a.rows, weights: l.pointwise, inputs: a.channels, source: z,
                                       initial: .init(bias: l.pointwiseBias, addend: x))
                swap(&x, &next)
            }
        }
    }

    /// `z = act(mid)` (or the gated unit) and `head += z`, on the real channels.
    @inline(__always)
    private func activate(_ a: LayerArray, mid: UnsafeMutablePointer<Float>, into z: UnsafeMutablePointer<Float>,
                          head: UnsafeMutablePointer<Float>, tiled: Int) {
        typealias V = SIMD16<Float>
        let stride = rowStride, gateOffset = a.rows * stride
        let act = a.activation, precision = self.precision
        for c in 0..<a.channels {
            let src = mid + c * stride, dst = z + c * stride, h = head + c * stride
            var t = 0
            while t < tiled {
                let v = a.gated ? act.gated(V.load(src + t), V.load(src + gateOffset + t), precision)
                                : act.apply(V.load(src + t), precision)
                v.store(dst + t)
                (V.load(h + t) + v).store(h + t)
                t += 16
            }
        }
    }

    /// The post-head on one frame (channels `stride` apart): `headScale`
    /// times the head input, then per block activation and 1x1 convolution.
    private func applyHead(_ frame: UnsafePointer<Float>, stride: Int) -> Float {
        let a = headScratch.pointer, b = headScratch.pointer + headScratch.count / 2
        let cin0 = head[0].cin
        for i in 0..<cin0 { a[i] = headScale * frame[i * stride] }
        var src = a, dst = b
        let act = blueprint.config.head!.activation
        for block in head {
            for o in 0..<block.cout {
                var acc = block.bias[o]
                for i in 0..<block.cin { acc += block.weight[o * block.cin + i] * act.apply(src[i]) }
                dst[o] = acc
            }
            swap(&src, &dst)
        }
        return src[0]
    }
}
