import NeuralFXCore

/// Which MIDI control-change numbers move which knobs: `cc7=peak,cc1=drive`.
public struct MidiMap: Equatable, Sendable {
    /// Controller number (0...127) to knob name.
    public var knobForController: [Int: String]

    public init(_ knobForController: [Int: String] = [:]) { self.knobForController = knobForController }

    /// Parses `cc7=peak,cc1=drive` (also `7=peak`); knob names are checked
    /// against `schema` when one is given.
    public init(parsing text: String, schema: KnobSchema? = nil) throws {
        var map: [Int: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmed }
            guard parts.count == 2, !parts[1].isEmpty else { throw HostError.badArgument("MIDI mapping '\(item)' is not of the form cc7=knob") }
            var number = parts[0].lowercased()
            if number.hasPrefix("cc") { number.removeFirst(2) }
            guard let cc = Int(number), (0...127).contains(cc) else {
                throw HostError.badArgument("MIDI mapping '\(item)': controller must be cc0..cc127")
            }
            if let schema, schema.index(of: parts[1]) == nil {
                throw HostError.badArgument("MIDI mapping '\(item)': " + KnobError.unknownKnob(parts[1], valid: schema.names).description)
            }
            map[cc] = parts[1]
        }
        knobForController = map
    }

    public var description: String {
        knobForController.sorted { $0.key < $1.key }.map { "cc\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The knob value a controller value (0...127) selects: the knob's range
    /// spread linearly over 0...127; a switch's positions split it evenly.
    public static func knobValue(controllerValue: Int, of knob: KnobSpec) -> Double {
        let v = min(max(controllerValue, 0), 127)
        if knob.isSwitch {
            let n = knob.positions.count
            return Double(min(v * n / 128, n - 1))
        }
        return knob.minimum + (knob.maximum - knob.minimum) * Double(v) / 127
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
