import Foundation
import NeuralFXCore
import NeuralFXHost

extension FuzzTarget {
    /// Raw MIDI events as JACK delivers them, decoded and applied to a live
    /// processor between short renders, as the JACK process callback does.
    /// Input: a sequence of events, each a length byte (low 2 bits + 1 ... up
    /// to 4 bytes, the high bits choosing a learn request or a render between
    /// events) followed by that many bytes.
    public static let midi = FuzzTarget(name: "midi") { data in
        let bytes = [UInt8](data)
        let live = MidiRig.make()
        var decoded = 0
        var at = 0
        while at < bytes.count {
            let header = bytes[at]
            at += 1
            let count = min(Int(header & 0x03) + 1, bytes.count - at)
            if header & 0x40 != 0 { live.processor.learn(knob: Int(header >> 2 & 0x01)) }
            live.processor.beginCycle()
            let message = bytes.withUnsafeBufferPointer {
                MidiMessage.decode(UnsafeBufferPointer(rebasing: $0[at..<at + count]))
            }
            at += count
            if let message {
                decoded += 1
                switch message {
                case let .controlChange(controller, value): precondition((0...127).contains(controller) && (0...127).contains(value))
                case let .programChange(program): precondition((0...127).contains(program))
                }
                live.processor.apply(message)
            }
            if header & 0x80 != 0 { live.render(frames: Int(header >> 2 & 0x0F) + 1) }
        }
        live.render(frames: MidiRig.period)
        _ = live.processor.takeKnobMoves()
        _ = live.processor.takeLearned()
        _ = live.processor.takeProgramChange()
        precondition(live.outputIsFinite, "non-finite output after MIDI")
        return decoded > 0 ? .accepted : .refused
    }
}

/// A live processor over a small random micro-tcn with a continuous knob on
/// cc1 and a switch on cc7, with its own audio buffers.
final class MidiRig {
    static let period = 64
    static let rate = 44100
    static let model: EffectModel = {
        let config = MicroTCNConfig(nparams: 2, nblocks: 2, kernelSize: 3, dilationGrowth: 2, channelWidth: 2)
        let knobs = KnobSchema([
            .continuous("peak", label: "Peak", range: 0...1, default: 0.5, conditioningIndex: 0),
            .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0, conditioningIndex: 1),
        ])
        return EffectModel(name: "fuzz", blueprint: MicroTCNWeights.random(config, seed: 19), sampleRate: Double(rate), knobs: knobs)
    }()

    let processor: LiveProcessor
    private let input: [Float]
    private var output: [Float]

    private init(processor: LiveProcessor) {
        self.processor = processor
        input = (0..<Self.period).map { Float(sin(Double($0) * 0.2) * 0.5) }
        output = [Float](repeating: 0, count: Self.period)
    }

    static func make() -> MidiRig {
        // The model runs at the stream's rate: nothing to convert, nothing to fail.
        guard let set = try? EngineSet(model: model, channels: 1, streamRate: rate, maxBlockSize: period, knobValues: [:],
                            inputGainDecibels: 0, outputGainDecibels: 0,
                            midiMap: MidiMap([1: "peak", 7: "mode"])) else { preconditionFailure("no rate conversion to fail") }
        return MidiRig(processor: LiveProcessor(initial: set, sampleRate: Double(rate)))
    }

    /// Renders `frames` (at most one period) from the start of the buffers.
    func render(frames: Int) {
        let n = min(frames, Self.period)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                processor.inputs[0] = i.baseAddress!
                processor.outputs[0] = o.baseAddress!
                processor.render(offset: 0, frameCount: n)
            }
        }
    }

    var outputIsFinite: Bool { output.allSatisfy(\.isFinite) }
}
