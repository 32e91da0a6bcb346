import NeuralFXCore
import NeuralFXResampling

/// One model ready to play: an engine per channel, prepared, knobs and gains
/// set, and its MIDI controller table. Built off the audio thread, handed to
/// it whole, and freed off it again.
///
/// When the stream runs at another rate than the model was trained at, each
/// channel is resampled to the model's rate and back; outputs then lag by
/// `latencyFrames` (reported to the host), what the converters hold back.
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
                inputGainDecibels: Double, outputGainDecibels: Double, midiMap: MidiMap) throws {
        self.model = model
        self.streamRate = streamRate
        self.maxBlockSize = maxBlockSize
        initialKnobValues = knobValues
        let modelRate = Int(model.sampleRate.rounded())
        let resampling = modelRate != streamRate
        // The engine splits longer blocks itself.
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
        conversions = resampling ? try engines.map {
            try RateConversion(engine: $0, streamRate: streamRate, modelRate: modelRate, maxBlockSize: maxBlockSize)
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

/// Stream rate -> model rate -> engine -> stream rate, for one channel,
/// through the same converter offline renders use (`StreamingResampler`),
/// so a stream played live equals the file rendered offline, delayed by
/// `latencyFrames`.
public final class RateConversion {
    let engine: EffectEngine
    let down: StreamingResampler
    let up: StreamingResampler
    public let latencyFrames: Int
    private let modelInput: FloatBuffer
    private let modelOutput: FloatBuffer
    private let queue: FloatBuffer
    private var queued: Int

    public init(engine: EffectEngine, streamRate: Int, modelRate: Int, maxBlockSize: Int) throws {
        self.engine = engine
        down = try StreamingResampler(from: Double(streamRate), to: Double(modelRate), channels: 1, blockFrames: maxBlockSize)
        let bounds = try HoldBack(streamRate: streamRate, modelRate: modelRate)
        let modelBlock = Int((Double(maxBlockSize) * down.ratio).rounded(.up)) + bounds.down + 2
        up = try StreamingResampler(from: Double(modelRate), to: Double(streamRate), channels: 1, blockFrames: modelBlock)
        modelInput = FloatBuffer(count: modelBlock)
        modelOutput = FloatBuffer(count: modelBlock)
        // The output trails the input by what the two converters hold back;
        // a queue primed with that many frames of silence never runs dry, and
        // delays everything by exactly that much.
        latencyFrames = bounds.chain
        let upBlock = Int((Double(modelBlock) * up.ratio).rounded(.up)) + bounds.up + 2
        queue = FloatBuffer(count: latencyFrames + upBlock + maxBlockSize)
        queued = latencyFrames
    }

    /// Processes `n` (<= the maxBlockSize given at init) stream frames.
    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount n: Int) {
        let m = down.convert(input, frames: n, into: modelInput.pointer, capacity: modelInput.count)
        engine.process(modelInput.pointer, modelOutput.pointer, frameCount: m)
        queued += up.convert(modelOutput.pointer, frames: m, into: queue.pointer + queued, capacity: queue.count - queued)
        let available = min(n, queued)
        output.update(from: queue.pointer, count: available)
        // Never reached with the priming above; silence beats garbage if it were.
        if available < n { (output + available).update(repeating: 0, count: n - available) }
        queue.pointer.update(from: queue.pointer + available, count: queued - available)
        queued -= available
    }
}

/// How many frames the converters between two rates hold back at most: each
/// alone (in its output frames) and the chain there and back (in stream
/// frames). What they hold back depends only on how much input they have
/// consumed, never on the blocks it came in, and repeats with the rates'
/// common period; so feeding silence a frame at a time through a fresh pair
/// for a few periods finds the largest amount.
struct HoldBack {
    let down: Int
    let up: Int
    let chain: Int

    init(streamRate: Int, modelRate: Int) throws {
        let downward = try StreamingResampler(from: Double(streamRate), to: Double(modelRate), channels: 1, blockFrames: 1)
        let upward = try StreamingResampler(from: Double(modelRate), to: Double(streamRate), channels: 1, blockFrames: 1)
        let period = streamRate / greatestCommonDivisor(streamRate, modelRate)
        let frames = min(4 * period + 4096, 48000)
        var silence: Float = 0
        var modelFrames = [Float](repeating: 0, count: 4096)
        var streamFrames = [Float](repeating: 0, count: 4096)
        var down = 0, up = 0, chain = 0
        for consumed in 1...frames {
            let m = downward.convert(&silence, frames: 1, into: &modelFrames, capacity: modelFrames.count)
            _ = upward.convert(&modelFrames, frames: m, into: &streamFrames, capacity: streamFrames.count)
            down = max(down, Int(downward.heldBackFrames))
            up = max(up, Int(upward.heldBackFrames))
            chain = max(chain, consumed - Int(upward.outputFramesEmitted))
        }
        (self.down, self.up, self.chain) = (down, up, chain)
    }
}

private func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int { b == 0 ? a : greatestCommonDivisor(b, a % b) }
