import NeuralFXAudio
import NeuralFXCore
import NeuralFXDevices
import NeuralFXTraining

/// A model against the reference device it imitates, on the same input at
/// the same knob settings.
public struct DeviceComparison {
    public let model: EffectModel
    public let device: DeviceKind

    /// Fails if the model lacks one of the device's knobs.
    public init(model: EffectModel, device: DeviceKind) throws {
        for name in device.knobs.names where model.knobs.index(of: name) == nil {
            throw KnobError.unknownKnob(name, valid: model.knobs.names)
        }
        self.model = model
        self.device = device
    }

    /// The device's output, aligned with its input as the datasets align it
    /// (its latency removed). `setting` is in the device's knob order.
    public func deviceOutput(_ input: [Float], setting: [Double]) -> [Float] {
        let unit = device.make(sampleRate: model.sampleRate)
        for (i, v) in setting.enumerated() { unit.setKnob(i, to: v) }
        return unit.alignedOutput(input)
    }

    /// The model's output through the streaming engine, starting from silence.
    public func modelOutput(_ input: [Float], setting: [Double]) -> [Float] {
        let engine = EffectEngine(model: model, maxBlockSize: 4096)
        for (name, v) in zip(device.knobs.names, setting) {
            engine.setKnob(model.knobs.index(of: name)!, to: v, immediately: true)
        }
        return renderInBlocks(input, blockSize: 4096) { engine.process($0, $1, frameCount: $2) }
    }

    /// Scores at one setting.
    public func score(_ input: [Float], setting: [Double], description: String) -> SettingScore {
        let target = deviceOutput(input, setting: setting)
        let prediction = modelOutput(input, setting: setting)
        let sums = EnergySums(prediction: prediction, target: target, input: input)
        let stft = LossFunction([.stft(sizes: [1024])])
        return SettingScore(setting: setting, description: description, sums: sums,
                            bands: BandErrors(prediction: prediction, target: target, sampleRate: model.sampleRate),
                            stft: Double(stft.evaluate(prediction: prediction, target: target, count: target.count, gradient: nil)),
                            loudnessError: loudness(prediction) - loudness(target))
    }

    func loudness(_ x: [Float]) -> Double {
        let meter = LoudnessMeter(sampleRate: model.sampleRate, channels: 1)
        x.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: x.count) }
        return meter.integratedLoudness
    }
}

/// Held-out error at one knob setting.
public struct SettingScore: Sendable {
    public var setting: [Double]
    public var description: String
    public var sums: EnergySums
    /// Error over the device's energy per band.
    public var bands: BandErrors
    public var stft: Double
    /// Integrated loudness of the model's output minus the device's, LU.
    public var loudnessError: Double

    public var esr: Double { sums.esr }
}
