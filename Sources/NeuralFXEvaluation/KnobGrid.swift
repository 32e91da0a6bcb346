import NeuralFXCore

/// The knob settings a model is scored at: every combination of a few
/// values per knob (all positions of a switch, evenly spaced values of a
/// continuous knob), or values given by name.
public struct KnobGrid: Sendable {
    public let schema: KnobSchema
    /// Values per knob, in schema order.
    public private(set) var values: [[Double]]

    /// `steps` evenly spaced values from minimum to maximum per continuous knob.
    public init(schema: KnobSchema, steps: Int) {
        self.schema = schema
        values = schema.knobs.map { k in
            if k.isSwitch { return k.positions.indices.map(Double.init) }
            let n = max(steps, 1)
            return n == 1 ? [k.defaultValue] : (0..<n).map { k.minimum + (k.maximum - k.minimum) * Double($0) / Double(n - 1) }
        }
    }

    /// Replaces one knob's values from `name=v1,v2,...` (switch positions by name or index).
    public mutating func set(_ text: String) throws {
        guard let eq = text.firstIndex(of: "=") else { throw KnobError.malformed(text) }
        let name = String(text[..<eq])
        let list = text[text.index(after: eq)...].split(separator: ",").map(String.init)
        guard !list.isEmpty else { throw KnobError.malformed(text) }
        var index = 0
        var parsed: [Double] = []
        for item in list {
            let (i, v) = try schema.value(of: name, from: item)
            index = i
            parsed.append(v)
        }
        values[index] = parsed
    }

    /// Every combination, the last knob varying fastest.
    public var settings: [[Double]] {
        values.reduce([[]]) { partial, knobValues in partial.flatMap { s in knobValues.map { s + [$0] } } }
    }

    public func describe(_ setting: [Double]) -> String {
        zip(schema.knobs, setting).map { "\($0.name)=\($0.describe($1))" }.joined(separator: " ")
    }
}
