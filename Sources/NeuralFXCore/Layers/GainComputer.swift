import RealModule

/// The learned tensors of a gain computer: one linear map from the knobs to
/// its eight parameters, or thirteen with the optical cell
/// (`GainComputer.Parameter`), in PyTorch's layout.
public struct GainComputerWeights: Equatable, Sendable {
    /// `gain.knob.weight` `[8 or 13, nparams]`.
    public var knobWeight: [Float]
    /// `gain.knob.bias` `[8 or 13]`.
    public var knobBias: [Float]

    public init(knobWeight: [Float], knobBias: [Float]) {
        self.knobWeight = knobWeight
        self.knobBias = knobBias
    }

    /// Where training starts: no knob dependence yet; a 10 ms detector, a
    /// threshold at -30 dB with a 2:1 slope over a 10 dB knee, a 10 ms
    /// attack, 50 ms fast and 1 s slow release sharing the reduction evenly.
    /// The optical cell's detector starts as a peak follower (1 ms up,
    /// 20 ms down) and its slow release at 0.5 s, growing by up to 2 s with
    /// a memory of reduction past 10 dB that builds over 5 s and fades over
    /// 20 s: the order of magnitude published for T4 cells, not any one
    /// device's values.
    public static func start(knobs: Int, sampleRate: Double, opticalCell: Bool = false) -> GainComputerWeights {
        typealias P = GainComputer.Parameter
        let samples = { (seconds: Double) in Float(Double.log(seconds * sampleRate)) }
        let count = GainComputer.parameterCount(opticalCell: opticalCell)
        var bias = [Float](repeating: 0, count: count)
        bias[P.detector.rawValue] = samples(opticalCell ? 0.001 : 0.01)
        bias[P.threshold.rawValue] = -30 / Float(GainComputer.thresholdScale)
        bias[P.attack.rawValue] = samples(0.01)
        bias[P.fastRelease.rawValue] = samples(0.05)
        bias[P.slowRelease.rawValue] = samples(opticalCell ? 0.5 : 1)
        if opticalCell {
            bias[P.detectorRelease.rawValue] = samples(0.02)
            bias[P.slowReleaseGrowth.rawValue] = samples(2)
            bias[P.memoryCharge.rawValue] = samples(5)
            bias[P.memoryDecay.rawValue] = samples(20)
        }
        return GainComputerWeights(knobWeight: [Float](repeating: 0, count: count * knobs), knobBias: bias)
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
/// With the optical cell (`opticalCell`), as in a T4 cell:
/// - the detector follows the peaks of what it hears, `e += k (|x| - e)` with
///   `k` its attack coefficient while `|x| > e` and its release one
///   otherwise, and `L = 10 log10(e² + floor)`;
/// - the slow part releases over `τ = τ₀ + τ₁ m` samples, where the memory
///   `m` moves towards the heaviness `min((F + S) / H, 1)` with a charge
///   coefficient while below it and a decay one while above: after long
///   heavy reduction the level comes back over seconds, after a short
///   peak quickly.
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
    /// The knob map's outputs. The optical cell adds the last five; with it
    /// `detector` is the detector's attack.
    public enum Parameter: Int, CaseIterable, Sendable {
        case detector, threshold, slope, knee, attack, fastRelease, slowRelease, slowShare
        case detectorRelease, slowReleaseGrowth, memoryScale, memoryCharge, memoryDecay
    }
    public static func parameterCount(opticalCell: Bool) -> Int {
        opticalCell ? Parameter.allCases.count : Parameter.slowShare.rawValue + 1
    }
    /// Detector power floor (-90 dB) under the log.
    public static let floor = 1e-9
    /// dB per unit of the threshold parameter, so that one optimizer step
    /// moves it a sensible fraction of a decibel.
    public static let thresholdScale = 20.0
    /// Knee width in dB at a knee parameter of 0.
    public static let kneeScale = 10.0
    /// The optical cell's heaviness scale `H` in dB at a parameter of 0.
    public static let memoryScaleDecibels = 10.0
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
        /// The optical cell's: the detector's release coefficient, the slow
        /// release's time `τ₀` and its growth `τ₁` in samples, the
        /// heaviness scale `H` in dB and the memory's two coefficients.
        /// Zero without it.
        public var detectorRelease: T = 0, slowReleaseSamples: T = 0, slowReleaseGrowth: T = 0
        public var memoryScale: T = 0, memoryCharge: T = 0, memoryDecay: T = 0

        /// The values for the raw parameters `p` (the knob map's output).
        public init(feedback: Bool, opticalCell: Bool = false, _ p: (Int) -> T) {
            threshold = T(GainComputer.thresholdScale) * p(Parameter.threshold.rawValue)
            slope = feedback ? T.exp(p(Parameter.slope.rawValue)) : GainComputer.logistic(p(Parameter.slope.rawValue))
            width = T(GainComputer.kneeScale) * T.exp(p(Parameter.knee.rawValue))
            detector = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.detector.rawValue))
            attack = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.attack.rawValue)).gain
            fastRelease = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.fastRelease.rawValue)).gain
            slowRelease = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.slowRelease.rawValue)).gain
            share = GainComputer.logistic(p(Parameter.slowShare.rawValue))
            if opticalCell {
                detectorRelease = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.detectorRelease.rawValue)).gain
                slowReleaseSamples = T.exp(p(Parameter.slowRelease.rawValue))
                slowReleaseGrowth = T.exp(p(Parameter.slowReleaseGrowth.rawValue))
                memoryScale = T(GainComputer.memoryScaleDecibels) * T.exp(p(Parameter.memoryScale.rawValue))
                memoryCharge = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.memoryCharge.rawValue)).gain
                memoryDecay = EnvelopeSideChain.coefficients(logTimeConstant: p(Parameter.memoryDecay.rawValue)).gain
            }
        }

        /// The slow part's release coefficient at memory `m`: one sample of
        /// a one-pole over `τ = τ₀ + τ₁ m` samples, `1 - exp(-1/τ)`. Over 64
        /// samples (every trained cell: its release is 0.4 s and more) by the
        /// series `u - u²/2 + u³/6 - u⁴/24`, `u = 1/τ`, whose remainder is
        /// under 10⁻⁹ of the value: it runs on the audio thread every sample
        /// the slow part releases, and `expm1`, a library call, was a fifth
        /// of the cell's time at block size 1. (`1 - exp` itself would keep
        /// only two digits in Float over 10⁵ samples.)
        @inlinable
        public func cellSlowRelease(memory m: T) -> T {
            let tau = slowReleaseSamples + slowReleaseGrowth * m
            guard tau >= 64 else { return -T.expMinusOne(-1 / tau) }
            let u: T = 1 / tau
            let third: T = 1 - u / 3 * (1 - u / 4)
            return u * (1 - u / 2 * third)
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
    /// Whether it is the optical cell (see above).
    public let opticalCell: Bool
    /// The two unit conversions, read here once: a static constant computed
    /// by a function is set up lazily on first use, which must not be the
    /// audio thread's (it allocated there in jalv).
    private let toDecibels = Float(GainComputer.decibelsPerNeper), toExponent = Float(GainComputer.gainPerDecibel)
    private var settings = Settings<Float>(feedback: false) { _ in 0 }
    private var state = GainComputerState<Float>()

    public init(_ w: GainComputerWeights, knobs: Int, feedback: Bool = false, opticalCell: Bool = false) {
        let count = Self.parameterCount(opticalCell: opticalCell)
        precondition(w.knobBias.count == count && w.knobWeight.count == count * knobs)
        self.knobs = knobs
        self.feedback = feedback
        self.opticalCell = opticalCell
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
                let raw = Settings<Double>(feedback: feedback, opticalCell: opticalCell) { i in
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
                settings.detectorRelease = Float(raw.detectorRelease)
                // Bounded so that τ₀ + τ₁ m is never ∞ · 0.
                settings.slowReleaseSamples = Float(raw.slowReleaseSamples.clamped(to: 0...1e12))
                settings.slowReleaseGrowth = Float(raw.slowReleaseGrowth.clamped(to: 0...1e12))
                settings.memoryScale = Float(raw.memoryScale.clamped(to: 1e-3...1e3))
                settings.memoryCharge = Float(raw.memoryCharge)
                settings.memoryDecay = Float(raw.memoryDecay)
            }
        }
    }

    /// The state after silence from the start.
    public func reset() { state = GainComputerState() }

    /// The gain for each of `frames` input samples.
    public func gains(of input: UnsafePointer<Float>, frames: Int, into gain: UnsafeMutablePointer<Float>) {
        let s = settings, toDecibels = toDecibels, toExponent = toExponent
        let floor = Float(Self.floor), cell = opticalCell
        var state = state
        // The previous sample's gain, recomputed from the state so that a
        // block boundary changes no bit.
        var previous = feedback ? Float.exp(-toExponent * state.reduction) : 1
        for t in 0..<frames {
            _ = state.step(input[t] * previous, s, opticalCell: cell, toDecibels: toDecibels, floor: floor)
            gain[t] = Float.exp(-toExponent * state.reduction)
            if feedback { previous = gain[t] }
        }
        self.state = state
    }

    /// The reduction the side-chain applies now, in dB.
    public var reductionDecibels: Float { state.reduction }
}

/// The side-chain's state and its update by one sample: the recurrence
/// written once, for inference in Float and training in its own scalar.
public struct GainComputerState<T: Real & BinaryFloatingPoint>: Sendable where T: Sendable {
    /// Detector level (power, or the cell's peak), fast and slow parts of
    /// the reduction (dB), the cell's memory.
    public var level: T = 0, fast: T = 0, slow: T = 0, memory: T = 0

    public init() {}

    /// The reduction now, in dB.
    @inlinable
    public var reduction: T { fast + slow }

    /// Takes in one detector input `heard` and returns the target reduction
    /// (dB) the ballistics moved towards. `toDecibels` and `floor` are
    /// `GainComputer.decibelsPerNeper` and `.floor`, passed in so the audio
    /// thread reads no lazily set-up constant.
    @inlinable @inline(__always)
    public mutating func step(_ heard: T, _ s: GainComputer.Settings<T>, opticalCell: Bool, toDecibels: T, floor: T) -> T {
        let l: T
        if opticalCell {
            let peak = abs(heard)
            level += (peak > level ? s.detector.gain : s.detectorRelease) * (peak - level)
            l = toDecibels * T.log(level * level + floor)
        } else {
            level = s.detector.decay * level + s.detector.gain * (heard * heard)
            l = toDecibels * T.log(level + floor)
        }
        let r = s.slope * GainComputer.knee(l - s.threshold, width: s.width).value
        let fastTarget = (1 - s.share) * r, slowTarget = s.share * r
        fast += (fastTarget > fast ? s.attack : s.fastRelease) * (fastTarget - fast)
        if slowTarget > slow {
            slow += s.attack * (slowTarget - slow)
        } else {
            slow += (opticalCell ? s.cellSlowRelease(memory: memory) : s.slowRelease) * (slowTarget - slow)
        }
        if opticalCell {
            let heaviness = min((fast + slow) / s.memoryScale, 1)
            memory += (heaviness > memory ? s.memoryCharge : s.memoryDecay) * (heaviness - memory)
        }
        return r
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
