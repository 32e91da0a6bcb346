import NeuralFXCore

/// One model ready to play: an engine per channel, prepared, knobs and gains
/// set, and its MIDI controller table. Built off the audio thread, handed to
/// it whole, and freed off it again.
///
/// When the stream runs at another rate than the model was trained at, each
/// channel is resampled to the model's rate and back; outputs then lag by
/// `latencyFrames` (reported to JACK). The lag comes from a queue primed with
/// the model's output for silence, deep enough that it never runs dry.
public final class EngineSet {
    public let model: EffectModel
    public let streamRate: Int
    /// Frames between an input sample and its output, added by resampling.
    public let latencyFrames: Int
    /// Largest frame count one `process` call accepts.
    public let maxBlockSize: Int
    /// The knob values the set was built with, by name.
    public let initialKnobValues: [String: Double]
    let engines: [EffectEngine]
    /// Knob index moved by each MIDI controller number, or -1. Owned by the
    /// audio thread once installed (MIDI learn writes it there).
    let controllerKnob: UnsafeMutablePointer<Int>
    private let conversions: [RateConversion]

    /// Builds and prepares `channels` engines for blocks of up to
    /// `maxBlockSize` stream frames, with `knobValues` applied immediately.
    /// Names the model does not have are ignored: a new model need not share
    /// the old one's knobs.
    public init(model: EffectModel, channels: Int, streamRate: Int, maxBlockSize: Int, knobValues: [String: Double],
                inputGainDecibels: Double, outputGainDecibels: Double, midiMap: MidiMap) {
        self.model = model
        self.streamRate = streamRate
        self.maxBlockSize = maxBlockSize
        initialKnobValues = knobValues
        let modelRate = Int(model.sampleRate.rounded())
        let resampling = modelRate != streamRate
        let engineBlock = resampling ? maxBlockSize * modelRate / streamRate + 2 : maxBlockSize
        engines = (0..<channels).map { _ in
            let e = EffectEngine(model: model, maxBlockSize: engineBlock)
            for (name, value) in knobValues {
                if let i = model.knobs.index(of: name) { e.setKnob(i, to: value, immediately: true) }
            }
            e.setInputGain(decibels: inputGainDecibels, immediately: true)
            e.setOutputGain(decibels: outputGainDecibels, immediately: true)
            return e
        }
        conversions = resampling ? engines.map {
            RateConversion(engine: $0, streamRate: streamRate, modelRate: modelRate, maxBlockSize: maxBlockSize)
        } : []
        latencyFrames = conversions.first?.latencyFrames ?? 0
        controllerKnob = .allocate(capacity: 128)
        controllerKnob.initialize(repeating: -1, count: 128)
        for (cc, name) in midiMap.knobForController {
            if let i = model.knobs.index(of: name) { controllerKnob[cc] = i }
        }
    }

    deinit { controllerKnob.deallocate() }

    /// Runs channel `channel` on `frameCount` (<= maxBlockSize) stream frames.
    func process(channel: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        if conversions.isEmpty {
            engines[channel].process(input, output, frameCount: frameCount)
        } else {
            conversions[channel].process(input, output, frameCount: frameCount)
        }
    }
}

/// Stream rate -> model rate -> engine -> stream rate, for one channel.
public final class RateConversion {
    let engine: EffectEngine
    let down: Resampler
    let up: Resampler
    public let latencyFrames: Int
    private let modelInput: FloatBuffer
    private let modelOutput: FloatBuffer
    private let queue: FloatBuffer
    private var queued: Int

    public init(engine: EffectEngine, streamRate: Int, modelRate: Int, maxBlockSize: Int) {
        self.engine = engine
        let silence = FloatBuffer(count: 1)
        let zero = FloatBuffer(count: 1)
        engine.process(zero.pointer, silence.pointer, frameCount: 1)
        engine.reset()
        down = Resampler(inputRate: streamRate, outputRate: modelRate, maxInputBlock: maxBlockSize)
        let modelBlock = down.maxOutput(forInput: maxBlockSize)
        up = Resampler(inputRate: modelRate, outputRate: streamRate, maxInputBlock: modelBlock, initialValue: silence[0])
        modelInput = FloatBuffer(count: modelBlock)
        modelOutput = FloatBuffer(count: modelBlock)
        // Produced output trails consumed input by the two kernels' look-ahead
        // (plus a sample of rounding each); that many primed frames keep the
        // queue from ever running dry.
        latencyFrames = down.lookaheadOutputSamples * streamRate / modelRate + up.lookaheadOutputSamples + 2
        queue = FloatBuffer(count: latencyFrames + up.maxOutput(forInput: modelBlock) + maxBlockSize)
        queue.pointer.update(repeating: silence[0], count: latencyFrames)
        queued = latencyFrames
    }

    /// Processes `n` (<= the maxBlockSize given at init) stream frames.
    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount n: Int) {
        let m = down.process(input, count: n, into: modelInput.pointer)
        engine.process(modelInput.pointer, modelOutput.pointer, frameCount: m)
        queued += up.process(modelOutput.pointer, count: m, into: queue.pointer + queued)
        let available = min(n, queued)
        output.update(from: queue.pointer, count: available)
        // Never reached with the priming above; silence beats garbage if it were.
        if available < n { (output + available).update(repeating: 0, count: n - available) }
        queue.pointer.update(from: queue.pointer + available, count: queued - available)
        queued -= available
    }
}
