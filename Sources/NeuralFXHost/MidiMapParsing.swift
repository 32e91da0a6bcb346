import NeuralFXCore
import NeuralFXLive

// Parsing lives with fxhost's command line: its errors are fxhost's.
extension MidiMap {
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
        self.init(map)
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
