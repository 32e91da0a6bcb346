import NeuralFXCore

/// Knob values and gains for one model, built up from its defaults, then a
/// preset, then `name=value` arguments (later ones win).
public struct EffectSettings: Equatable, Sendable {
    public let knobs: KnobSchema
    public private(set) var values: [Double]
    public var inputGainDB: Double = 0
    public var outputGainDB: Double = 0

    public init(knobs: KnobSchema) {
        self.knobs = knobs
        values = knobs.defaults
    }

    /// Applies a preset's knobs and gains (checked against the schema).
    public mutating func apply(_ preset: Preset, source: String) throws {
        for (index, value) in try preset.settings(for: knobs, source: source) { values[index] = value }
        inputGainDB = preset.inputGainDB
        outputGainDB = preset.outputGainDB
    }

    /// Applies `name=value` settings; errors are `KnobError`s.
    public mutating func apply(arguments: [String]) throws {
        for argument in arguments {
            let (index, value) = try knobs.setting(argument)
            values[index] = value
        }
    }

    /// Sets an engine to these values at once (no ramp from the defaults); a
    /// fresh engine then starts as if it had sat in silence at them.
    public func configure(_ engine: EffectEngine) {
        for (index, value) in values.enumerated() { engine.setKnob(index, to: value, immediately: true) }
        engine.setInputGain(decibels: inputGainDB, immediately: true)
        engine.setOutputGain(decibels: outputGainDB, immediately: true)
    }

    /// "peak=0.4 mode=limit" (plus gains when not 0 dB).
    public var summary: String {
        var parts = zip(knobs.knobs, values).map { "\($0.name)=\($0.describe($1).split(separator: " ")[0])" }
        if inputGainDB != 0 { parts.append("input \(inputGainDB) dB") }
        if outputGainDB != 0 { parts.append("output \(outputGainDB) dB") }
        return parts.joined(separator: " ")
    }
}
