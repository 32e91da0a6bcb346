import NeuralFXCore
import RealModule

/// A Tube Screamer-style overdrive: input coupling high-pass, the diode
/// clipping amplifier (`DiodeClippingStage`) run at 8x the sample rate,
/// then a tone stage and the level control. Digital full scale is taken as
/// 1 V peak at the pedal input. See docs/devices.md.
public final class Overdrive: ReferenceDevice {
    public static let knobSchema = KnobSchema([
        .continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0),
        .continuous("tone", label: "Tone", range: 0...1, default: 0.5, conditioningIndex: 1),
        .continuous("level", label: "Level", range: 0...1, default: 0.5, conditioningIndex: nil,
                    outputGainDecibels: levelDecibels),
    ])
    public static let oversamplingFactor = 8
    /// Corner of the input buffer's coupling network.
    static let inputHighPassHertz = 20.0
    /// Corner of the fixed treble roll-off (1 kΩ with 0.22 µF) the tone
    /// control works around.
    static let toneCornerHertz = 723.0
    /// Treble above the corner, relative to the bass, at tone 0 and tone 1.
    static let toneTrebleDecibels: ClosedRange<Double> = -24...6
    /// Output gain at level 0 and level 1.
    static let levelDecibels: ClosedRange<Double> = -36...0

    public let identifier = "overdrive"
    public let sampleRate: Double
    public var knobs: KnobSchema { Self.knobSchema }
    public private(set) var knobValues: [Double]
    public var latency: Int { oversampler.latency }

    private var inputHighPass: OnePoleHighPass
    private var oversampler: Oversampler
    private var clipper: DiodeClippingStage
    private var toneLowPass: OnePoleLowPass
    private var trebleGain = 1.0
    private var levelGain = 1.0
    private var block = [Float](repeating: 0, count: Overdrive.oversamplingFactor)

    public init(sampleRate: Double = 44_100) {
        self.sampleRate = sampleRate
        knobValues = Self.knobSchema.defaults
        inputHighPass = OnePoleHighPass(hertz: Self.inputHighPassHertz, sampleRate: sampleRate)
        // Band edges scale with the rate: 18 kHz and 24.1 kHz at 44.1 kHz.
        oversampler = Oversampler(factor: Self.oversamplingFactor, sampleRate: sampleRate,
                                  passbandEdge: sampleRate * 18.0 / 44.1,
                                  stopbandEdge: sampleRate * 24.1 / 44.1, kaiserBeta: 10, tapsPerPhase: 97)
        clipper = DiodeClippingStage(sampleRate: sampleRate * Double(Self.oversamplingFactor))
        toneLowPass = OnePoleLowPass(hertz: Self.toneCornerHertz, sampleRate: sampleRate)
        for i in knobValues.indices { setKnob(i, to: knobValues[i]) }
    }

    public func setKnob(_ index: Int, to value: Double) {
        let v = knobs.clamped(index, value)
        knobValues[index] = v
        switch index {
        case 0: clipper.setDrive(v)
        case 1: trebleGain = decibelsToGain(interpolate(Self.toneTrebleDecibels, v))
        default: levelGain = decibelsToGain(interpolate(Self.levelDecibels, v))
        }
    }

    public func reset() {
        inputHighPass.reset()
        oversampler.reset()
        clipper.reset()
        toneLowPass.state = 0
    }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        block.withUnsafeMutableBufferPointer { blockBuffer in
            let b = blockBuffer.baseAddress!
            for n in 0..<frameCount {
                let coupled = inputHighPass.process(Double(input[n]))
                oversampler.upsample(Float(coupled), into: b)
                for p in 0..<Self.oversamplingFactor { b[p] = Float(clipper.process(Double(b[p]))) }
                let driven = Double(oversampler.downsample(b))
                let bass = toneLowPass.process(driven)
                output[n] = Float(levelGain * (bass + trebleGain * (driven - bass)))
            }
        }
    }
}

@inline(__always)
func decibelsToGain(_ decibels: Double) -> Double { Double.pow(10, decibels / 20) }

@inline(__always)
func interpolate(_ range: ClosedRange<Double>, _ t: Double) -> Double {
    range.lowerBound + (range.upperBound - range.lowerBound) * t
}
