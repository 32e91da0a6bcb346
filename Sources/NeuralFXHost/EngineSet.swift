import NeuralFXCore

/// One model ready to play: an engine per channel, prepared, knobs and gains
/// set, and its MIDI controller table. Built off the audio thread, handed to
/// it whole, and freed off it again.
public final class EngineSet {
    public let model: EffectModel
    let engines: [EffectEngine]
    /// Knob index moved by each MIDI controller number, or -1. Owned by the
    /// audio thread once installed (MIDI learn writes it there).
    let controllerKnob: UnsafeMutablePointer<Int>

    /// Builds and prepares `channels` engines for blocks of up to
    /// `maxBlockSize` frames, with `knobValues` applied immediately. Names the
    /// model does not have are ignored: a new model need not share the old
    /// one's knobs.
    public init(model: EffectModel, channels: Int, maxBlockSize: Int, knobValues: [String: Double],
                inputGainDecibels: Double, outputGainDecibels: Double, midiMap: MidiMap) {
        self.model = model
        engines = (0..<channels).map { _ in
            let e = EffectEngine(model: model, maxBlockSize: maxBlockSize)
            for (name, value) in knobValues {
                if let i = model.knobs.index(of: name) { e.setKnob(i, to: value, immediately: true) }
            }
            e.setInputGain(decibels: inputGainDecibels, immediately: true)
            e.setOutputGain(decibels: outputGainDecibels, immediately: true)
            // The settings above reached a network that has heard nothing:
            // start it from silence under the final conditioning.
            e.reset()
            return e
        }
        controllerKnob = .allocate(capacity: 128)
        controllerKnob.initialize(repeating: -1, count: 128)
        for (cc, name) in midiMap.knobForController {
            if let i = model.knobs.index(of: name) { controllerKnob[cc] = i }
        }
    }

    deinit { controllerKnob.deallocate() }

    var nonFiniteResets: Int { engines.reduce(0) { $0 + $1.nonFiniteResets } }
}
