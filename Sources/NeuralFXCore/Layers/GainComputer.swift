import RealModule

/// The learned tensors of a gain computer: one linear map from the knobs to
/// its eight parameters (`GainComputer.Parameter`), in PyTorch's layout.
public struct GainComputerWeights: Equatable, Sendable {
    /// `gain.knob.weight` `[8, nparams]`.
    public var knobWeight: [Float]
    /// `gain.knob.bias` `[8]`.
    public var knobBias: [Float]

    public init(knobWeight: [Float], knobBias: [Float]) {
        self.knobWeight = knobWeight
        self.knobBias = knobBias
    }

    /// Where training starts: no knob dependence yet; a 10 ms detector, a
    /// threshold at -30 dB with a 2:1 slope over a 10 dB knee, a 10 ms
    /// attack, 50 ms fast and 1 s slow release sharing the reduction evenly.
    public static func start(knobs: Int, sampleRate: Double) -> GainComputerWeights {
        let samples = { (seconds: Double) in Float(Double.log(seconds * sampleRate)) }
        var bias = [Float](repeating: 0, count: GainComputer.parameterCount)
        bias[GainComputer.Parameter.detector.rawValue] = samples(0.01)
        bias[GainComputer.Parameter.threshold.rawValue] = -30 / Float(GainComputer.thresholdScale)
        bias[GainComputer.Parameter.attack.rawValue] = samples(0.01)
        bias[GainComputer.Parameter.fastRelease.rawValue] = samples(0.05)
        bias[GainComputer.Parameter.slowRelease.rawValue] = samples(1)
        return GainComputerWeights(knobWeight: [Float](repeating: 0, count: GainComputer.parameterCount * knobs), knobBias: bias)
    }
}

/// A compressor's side-chain with learned, knob-conditioned parameters
/// (issue 17): the gain it computes multiplies the network's output, so the
/// network models the colour and the side-chain the level, with memory over
/// seconds at constant cost per sample.
///
/// Per sample `x`:
/// - detector: `e = a e + (1 - a) x²`, level `L = 10 log10(e + floor)` dB;
/// - static curve: target reduction `r = slope · knee(L - threshold, width)` dB,
///   `knee` the quadratic soft knee (0 below, the excess above);
/// - ballistics: a fast part `F` towards `(1 - share) r` and a slow part `S`
///   towards `share r`, each with the attack coefficient while rising and
///   its own release coefficient while falling (an optical cell's two
///   release stages);
/// - gain `10^(-(F + S) / 20)`.
///
/// With `feedback` the detector hears the input times the previous sample's
/// gain, the compressed signal, as an LA-2A's does: the loop speeds the
/// attack up, and after a loud passage the level it detects is only a little
/// over the threshold, so the release starts at once instead of waiting for
/// the detector to fall from the input's level. The slope is then the ratio
/// less one (`exp` of its parameter, not the logistic), so one parameter
/// value gives the same static curve in both topologies.
///
/// The knobs set all eight parameters through one linear map, as FiLM sets
/// a block's scale and shift. Time constants train as the log of a count of
/// samples (`EnvelopeSideChain.coefficients`), the slope and share as
/// logits, the knee width as a log. The state is three numbers updated one
/// sample after another, so any block size gives the same bits; it starts
/// at zero, and silence in gives silence out whatever the gain.
public final class GainComputer {
    public enum Parameter: Int, CaseIterable, Sendable {
        case detector, threshold, slope, knee, attack, fastRelease, slowRelease, slowShare
    }
    public static let parameterCount = Parameter.allCases.count
    /// Detector power floor (-90 dB) under the log.
    public static let floor = 1e-9
    /// dB per unit of the threshold parameter, so that one optimizer step
    /// moves it a sensible fraction of a decibel.
    public static let thresholdScale = 20.0
    /// Knee width in dB at a knee parameter of 0.
    public static let kneeScale = 10.0
    /// dB per natural-log unit of power: 10 / ln 10.
    public static let decibelsPerNeper = 10 / Double.log(10)
    /// ln 10 / 20: from dB of reduction to the exponent of the gain.
    public static let gainPerDecibel = Double.log(10) / 20

    /// The reduction curve's values at the settings of one knob position.
    public struct Settings<T: Real & BinaryFloatingPoint>: Sendable where T: Sendable {
        public var threshold: T, slope: T, width: T
        public var detector: (decay: T, gain: T)
        public var attack: T, fastRelease: T, slowRelease: T
        public var share: T

        /// The values for the raw parameters `p` (the knob map's output).
        public init(feedback: Bool, _ p: (Int) -> T) {
            threshold = T(GainComputer.thresholdScale) * p(Parameter.threshold.rawValue)
            slope = feedback ? T.exp(p(Parameter.slope.rawValue)) : GainComputer.logistic(p(Parameter.slope.rawValue))
            width = T(GainComputer.kneeScale) * T.exp(p(Parameter.knee.rawValue))
            detector = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.detector.rawValue))
            attack = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.attack.rawValue)).gain
            fastRelease = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.fastRelease.rawValue)).gain
            slowRelease = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.slowRelease.rawValue)).gain
            share = GainComputer.logistic(p(Parameter.slowShare.rawValue))
        }
    }

    @inlinable
    public static func logistic<T: Real>(_ v: T) -> T { 1 / (1 + T.exp(-v)) }

    /// The quadratic soft knee of excess `over` (dB) and width `width`, and
    /// its derivatives with respect to both.
    @inlinable
    public static func knee<T: Real>(_ over: T, width: T) -> (value: T, dOver: T, dWidth: T) {
        let half = width / 2
        if over <= -half { return (0, 0, 0) }
        if over >= half { return (over, 1, 0) }
        let u = over + half
        return (u * u / (2 * width), u / width, u / (2 * width) - u * u / (2 * width * width))
    }

    public let knobs: Int
    public let weights: GainComputerWeights
    /// Whether the detector hears the gained signal (see above).
    public let feedback: Bool
    /// The two unit conversions, read here once: a static constant computed
    /// by a function is set up lazily on first use, which must not be the
    /// audio thread's (it allocated there in jalv).
    private let toDecibels = Float(GainComputer.decibelsPerNeper), toExponent = Float(GainComputer.gainPerDecibel)
    private var settings = Settings<Float>(feedback: false) { _ in 0 }
    private var level: Float = 0, fast: Float = 0, slow: Float = 0

    public init(_ w: GainComputerWeights, knobs: Int, feedback: Bool = false) {
        precondition(w.knobBias.count == Self.parameterCount && w.knobWeight.count == Self.parameterCount * knobs)
        self.knobs = knobs
        self.feedback = feedback
        weights = w
        let zeros = [Float](repeating: 0, count: max(knobs, 1))
        zeros.withUnsafeBufferPointer { setConditioning($0.baseAddress!) }
    }

    /// The parameters at these knob values. Allocation-free.
    public func setConditioning(_ values: UnsafePointer<Float>) {
        let k = knobs
        weights.knobWeight.withUnsafeBufferPointer { w in
            weights.knobBias.withUnsafeBufferPointer { b in
                // Double, so a file's extreme values saturate instead of
                // overflowing before the clamps below.
                let raw = Settings<Double>(feedback: feedback) { i in
                    var sum = Double(b[i])
                    for j in 0..<k { sum += Double(w[i * k + j]) * Double(values[j]) }
                    return sum
                }
                settings.threshold = Float(raw.threshold.clamped(to: -200...200))
                settings.slope = Float(raw.slope.clamped(to: 0...1e3))
                settings.width = Float(raw.width.clamped(to: 1e-3...1e3))
                settings.detector = (Float(raw.detector.decay), Float(raw.detector.gain))
                settings.attack = Float(raw.attack)
                settings.fastRelease = Float(raw.fastRelease)
                settings.slowRelease = Float(raw.slowRelease)
                settings.share = Float(raw.share)
            }
        }
    }

    /// The state after silence from the start.
    public func reset() { level = 0; fast = 0; slow = 0 }

    /// The gain for each of `frames` input samples.
    public func gains(of input: UnsafePointer<Float>, frames: Int, into gain: UnsafeMutablePointer<Float>) {
        let s = settings, toDecibels = toDecibels, toExponent = toExponent
        let floor = Float(Self.floor)
        var e = level, f = fast, sl = slow
        // The previous sample's gain, recomputed from the state so that a
        // block boundary changes no bit.
        var previous = feedback ? Float.exp(-toExponent * (f + sl)) : 1
        for t in 0..<frames {
            let heard = input[t] * previous
            e = s.detector.decay * e + s.detector.gain * (heard * heard)
            let l = toDecibels * Float.log(e + floor)
            let r = s.slope * Self.knee(l - s.threshold, width: s.width).value
            let fastTarget = (1 - s.share) * r, slowTarget = s.share * r
            f += (fastTarget > f ? s.attack : s.fastRelease) * (fastTarget - f)
            sl += (slowTarget > sl ? s.attack : s.slowRelease) * (slowTarget - sl)
            gain[t] = Float.exp(-toExponent * (f + sl))
            if feedback { previous = gain[t] }
        }
        level = e
        fast = f
        slow = sl
    }

    /// The reduction the side-chain applies now, in dB.
    public var reductionDecibels: Float { fast + slow }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
