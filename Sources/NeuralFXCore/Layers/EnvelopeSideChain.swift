import RealModule

/// The learned tensors of an envelope side-chain, in PyTorch's layouts.
public struct EnvelopeWeights: Equatable, Sendable {
    /// `env.log_tau` `[K]`: each envelope's time constant, as the natural
    /// log of a count of samples.
    public var logTimeConstants: [Float]
    /// `env.proj.weight` `[C, K, 1]`: from the K log levels to the first
    /// block's C convolution channels (a 1x1 convolution without bias).
    public var projection: [Float]

    public init(logTimeConstants: [Float], projection: [Float]) {
        self.logTimeConstants = logTimeConstants
        self.projection = projection
    }

    /// `count` time constants spaced evenly in log from 10 ms to 3 s, the
    /// span from an optical cell's attack to its slowest release.
    public static func spreadTimeConstants(count: Int, sampleRate: Double) -> [Float] {
        let shortest = Double.log(0.01 * sampleRate), longest = Double.log(3 * sampleRate)
        return (0..<count).map { k in
            Float(count == 1 ? longest : shortest + (longest - shortest) * Double(k) / Double(count - 1))
        }
    }
}

/// Long memory at constant cost per sample (issue 17): K one-pole smoothers
/// of the input's power, `e_k[t] = a_k e_k[t-1] + (1 - a_k) x[t]^2`, whose
/// log levels `s ln(e_k + floor)` a 1x1 convolution adds to the first
/// block's convolution output, as if they were extra input channels read at
/// the newest tap only (they change too slowly for the other taps to add
/// anything).
///
/// The decay is `a = exp(-exp(-θ))`: in (0, 1) for every finite θ, with
/// time constant `exp(θ)` samples, so θ trains on a log scale. The state is
/// K numbers updated one sample after another, so any block size gives the
/// same samples, and after endless silence it is 0.
public final class EnvelopeSideChain {
    /// Power floor (-60 dBFS) under the log: silence gives a finite level.
    public static let floor = 1e-6
    /// Scales the log level to about -1 (silence) ... 0 (full scale).
    public static let featureScale = 1 / Double.log(1e6)

    /// `(a, 1 - a)` for log time constant `θ`, the second without the
    /// cancellation `1 - a` would suffer for time constants of seconds.
    @inlinable
    public static func coefficients<T: Real>(logTimeConstant θ: T) -> (decay: T, gain: T) {
        let rate = T.exp(-θ)
        return (T.exp(-rate), -T.expMinusOne(-rate))
    }

    public let channels: Int
    public let outChannels: Int
    let decay: FloatBuffer
    let gain: FloatBuffer
    let projection: PointwiseConv
    /// `e_k`, the only state.
    let level: FloatBuffer
    /// The features of a chunk, frame-major.
    private var features = FloatBuffer(count: 0)
    /// The features after endless silence (all `s ln(floor)`).
    private let silentFeatures: FloatBuffer

    public init(_ w: EnvelopeWeights, outChannels: Int) {
        channels = w.logTimeConstants.count
        self.outChannels = outChannels
        let c = w.logTimeConstants.map { EnvelopeSideChain.coefficients(logTimeConstant: $0) }
        decay = FloatBuffer(c.map(\.decay))
        gain = FloatBuffer(c.map(\.gain))
        projection = PointwiseConv(inChannels: channels, outChannels: outChannels, weights: w.projection)
        level = FloatBuffer(count: channels)
        // As `addFeatures` computes them from a zero level, so that silence
        // referencing cancels the silent output exactly.
        silentFeatures = FloatBuffer(count: channels, value: Float(EnvelopeSideChain.featureScale)
                                     * Float.log(0 + Float(EnvelopeSideChain.floor)))
    }

    public var stateBytes: Int { level.byteCount + features.byteCount }

    public func prepare(maxFrames: Int) {
        features = FloatBuffer(count: maxFrames * channels)
        reset()
    }

    /// The state after endless silence.
    public func reset() { level.fill(0) }

    /// Runs the smoothers over `frames` input samples and adds their projected
    /// log levels to `out` (`frames x outChannels`, frame-major).
    public func addFeatures(of input: UnsafePointer<Float>, frames: Int, into out: UnsafeMutablePointer<Float>) {
        let k = channels, e = level.pointer, a = decay.pointer, g = gain.pointer, f = features.pointer
        let floor = Float(EnvelopeSideChain.floor), scale = Float(EnvelopeSideChain.featureScale)
        for t in 0..<frames {
            let power = input[t] * input[t]
            for ch in 0..<k {
                e[ch] = a[ch] * e[ch] + g[ch] * power
                f[t * k + ch] = scale * Float.log(e[ch] + floor)
            }
        }
        projection.apply(UnsafePointer(f), frames: frames, into: out, accumulate: true)
    }

    /// Adds to one frame of `out` what the side-chain adds after endless silence.
    public func addSilentFeatures(into out: UnsafeMutablePointer<Float>) {
        projection.apply(UnsafePointer(silentFeatures.pointer), frames: 1, into: out, accumulate: true)
    }
}
