import NeuralFXCore
import RealModule

/// An LA-2A-style leveling amplifier: a feedback compressor whose gain
/// element is a T4-style optical cell. See docs/devices.md for the model,
/// its equations and the published behaviour it is tuned to.
///
/// Per sample: the input is attenuated by the cell's current gain reduction
/// G (dB); the attenuated signal feeds both the output stage (gain, gentle
/// tube saturation, DC blocking) and the detector, so the cell reacts to the
/// output (feedback). The cell's target reduction follows a soft-knee law of
/// the detected output level; G moves towards it with the cell's ballistics:
/// a ~10 ms attack, a fast release of part of G and a slow release of the
/// rest whose time constant grows with the cell's memory of heavy
/// reduction.
public final class OpticalCompressor: ReferenceDevice {
    /// The knobs of the bundled LA-2A model: `mode` drives conditioning
    /// input 0 and `peak` input 1, the order of the SignalTrain parameters
    /// (limit switch, peak reduction / 100).
    public static let knobSchema = KnobSchema([
        .switchKnob("mode", label: "Compress/Limit", positions: ["compress", "limit"], default: 0,
                    conditioningIndex: 0),
        .continuous("peak", label: "Peak Reduction", range: 0...1, default: 0.5, conditioningIndex: 1),
    ])
    static let modeKnob = 0, peakKnob = 1
    public enum Mode: Int, Sendable { case compress = 0, limit = 1 }

    /// Static ratio (input dB over output dB, well above the knee) per mode.
    static let ratios: [Double] = [3, 10]
    /// Soft-knee width in dB of detected level.
    static let kneeDecibels = 8.0
    /// Detector gain (dB) at peak reduction 0 and 1: the detected output
    /// level where reduction starts is minus this. Calibrated so that peak
    /// 0.4 takes 3 to 5 dB off the loud passages of mix-level material
    /// (peaks near -3 dBFS, examples/drums-and-bass.flac), and peak 0 leaves
    /// anything below -4 dBFS alone.
    static let sidechainDecibels: ClosedRange<Double> = 0...50
    /// The electroluminescent panel's persistence: the detector rises
    /// quickly and decays over 15 ms, riding the peaks of the waveform.
    static let detectorAttackSeconds = 0.0005
    static let detectorReleaseSeconds = 0.015
    /// Cell time constants. The attack constant is longer than the measured
    /// attack because the feedback loop speeds the response up, by a factor
    /// growing with the loop gain (ratio - 1); it is given for Compress and
    /// scaled by the loop gain so both modes attack in about 10 ms.
    static let attackSeconds = 0.026
    static let fastReleaseSeconds = 0.032
    static let slowReleaseSeconds: ClosedRange<Double> = 0.4...3.2
    /// Share of the reduction held by the slow part of the cell.
    static let slowShare = 0.4
    /// Memory: charges towards the current heaviness (reduction / 12 dB,
    /// at most 1) over `memoryChargeSeconds`, forgets over `memoryDecaySeconds`.
    static let heavyReductionDecibels = 12.0
    static let memoryChargeSeconds = 8.0
    static let memoryDecaySeconds = 30.0
    /// Tube output stage: tanh with a small bias (even harmonics) normalised
    /// to unit small-signal gain.
    static let tubeDrive = 0.35
    static let tubeBias = 0.25

    public let identifier = "la2a"
    public let sampleRate: Double
    public var knobs: KnobSchema { Self.knobSchema }
    public private(set) var knobValues: [Double]
    public let latency = 0
    /// Output gain in dB (the front-panel Gain control; not a model knob).
    public var outputGainDecibels = 0.0 { didSet { outputGain = decibelsToGain(outputGainDecibels) } }

    private var outputGain = 1.0
    private var sidechainGain = 1.0
    private var ratioSlope = 2.0
    private let detectorAttack: Double, detectorRelease: Double
    private var attack = 0.0
    private let fastRelease: Double
    private let memoryCharge: Double, memoryDecay: Double
    private let tubeOffset: Double, tubeNormalisation: Double
    private var dcBlocker: OnePoleHighPass

    private var detector = 0.0
    private var fastReduction = 0.0
    private var slowReduction = 0.0
    private var memory = 0.0

    public init(sampleRate: Double = 44_100) {
        self.sampleRate = sampleRate
        knobValues = Self.knobSchema.defaults
        detectorAttack = onePoleCoefficient(seconds: Self.detectorAttackSeconds, sampleRate: sampleRate)
        detectorRelease = onePoleCoefficient(seconds: Self.detectorReleaseSeconds, sampleRate: sampleRate)
        fastRelease = onePoleCoefficient(seconds: Self.fastReleaseSeconds, sampleRate: sampleRate)
        memoryCharge = onePoleCoefficient(seconds: Self.memoryChargeSeconds, sampleRate: sampleRate)
        memoryDecay = onePoleCoefficient(seconds: Self.memoryDecaySeconds, sampleRate: sampleRate)
        tubeOffset = Double.tanh(Self.tubeDrive * Self.tubeBias)
        tubeNormalisation = 1 / (Self.tubeDrive * (1 - tubeOffset * tubeOffset))
        dcBlocker = OnePoleHighPass(hertz: 5, sampleRate: sampleRate)
        for i in knobValues.indices { setKnob(i, to: knobValues[i]) }
    }

    public func setKnob(_ index: Int, to value: Double) {
        let v = knobs.clamped(index, value)
        knobValues[index] = v
        if index == Self.peakKnob {
            sidechainGain = decibelsToGain(interpolate(Self.sidechainDecibels, v))
        } else {
            ratioSlope = Self.ratios[Int(v)] - 1
            let compressSlope = Self.ratios[Mode.compress.rawValue] - 1
            attack = onePoleCoefficient(seconds: Self.attackSeconds * ratioSlope / compressSlope, sampleRate: sampleRate)
        }
    }

    public var mode: Mode { Mode(rawValue: Int(knobValues[Self.modeKnob]))! }

    /// What the front-panel meter shows: the current gain reduction in dB.
    public var gainReductionDecibels: Double { fastReduction + slowReduction }

    public func reset() {
        detector = 0
        fastReduction = 0
        slowReduction = 0
        memory = 0
        dcBlocker.reset()
    }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        let slowReleaseSpan = Self.slowReleaseSeconds.upperBound - Self.slowReleaseSeconds.lowerBound
        let log10Scale = 20 / Double.log(10)
        for n in 0..<frameCount {
            let reduction = fastReduction + slowReduction
            let attenuated = Double(input[n]) * Double.exp(-reduction / log10Scale)

            // Output stage: gain, tube saturation, coupling capacitor.
            let driven = Self.tubeDrive * (attenuated * outputGain + Self.tubeBias)
            let saturated = (Double.tanh(driven) - tubeOffset) * tubeNormalisation
            output[n] = Float(dcBlocker.process(saturated))

            // Detector on the attenuated signal (feedback).
            let rectified = abs(attenuated) * sidechainGain
            detector += (rectified > detector ? detectorAttack : detectorRelease) * (rectified - detector)
            let over = log10Scale * Double.log(max(detector, 1e-9))
            let target = ratioSlope * softKnee(over)

            // Cell ballistics.
            let fastTarget = (1 - Self.slowShare) * target
            let slowTarget = Self.slowShare * target
            fastReduction += (fastTarget > fastReduction ? attack : fastRelease) * (fastTarget - fastReduction)
            if slowTarget > slowReduction {
                slowReduction += attack * (slowTarget - slowReduction)
            } else {
                let seconds = Self.slowReleaseSeconds.lowerBound + slowReleaseSpan * memory
                slowReduction += (1 - Double.exp(-1 / (seconds * sampleRate))) * (slowTarget - slowReduction)
            }
            let heaviness = min(reduction / Self.heavyReductionDecibels, 1)
            memory += (heaviness > memory ? memoryCharge : memoryDecay) * (heaviness - memory)
        }
    }

    /// Decibels over threshold with a quadratic knee.
    @inline(__always)
    private func softKnee(_ over: Double) -> Double {
        let half = Self.kneeDecibels / 2
        if over <= -half { return 0 }
        if over >= half { return over }
        return (over + half) * (over + half) / (2 * Self.kneeDecibels)
    }
}
