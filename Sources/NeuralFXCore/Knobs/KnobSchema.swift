import RealModule

/// One control of a model: a continuous knob or a switch with named positions.
///
/// A knob's value lives in its declared range (`minimum...maximum`); a
/// switch's value is the index of its position. `conditioningIndex` says which
/// entry of the network's conditioning vector the knob drives, and
/// `conditioningRange` (continuous) or `conditioningValues` (switch) how the
/// value maps onto it.
///
/// A continuous knob may instead (or as well) scale the model's output:
/// `outputGainDecibels` is the gain at `minimum` and at `maximum`, linear in
/// dB between. A device's output level control is exactly such a gain, and
/// applying it outside the network spares the network a 36 dB range it
/// would only learn approximately.
public struct KnobSpec: Codable, Equatable, Sendable {
    public var name: String
    public var label: String
    public var unit: String
    public var minimum: Double
    public var maximum: Double
    public var defaultValue: Double
    /// Named positions for a switch; empty for a continuous knob.
    public var positions: [String]
    /// The conditioning input the knob drives; nil when it only sets the output gain.
    public var conditioningIndex: Int?
    /// Continuous knobs: the conditioning value at `minimum` and at `maximum`.
    public var conditioningRange: [Double]
    /// Switches: the conditioning value of each position.
    public var conditioningValues: [Double]
    /// Continuous knobs: output gain in dB at `minimum` and at `maximum`;
    /// empty when the knob does not scale the output.
    public var outputGainDecibels: [Double] = []

    public var isSwitch: Bool { !positions.isEmpty }

    public static func continuous(_ name: String, label: String, unit: String = "", range: ClosedRange<Double>,
                                  default value: Double, conditioningIndex: Int?,
                                  conditioningRange: ClosedRange<Double> = 0...1,
                                  outputGainDecibels: ClosedRange<Double>? = nil) -> KnobSpec {
        var spec = KnobSpec(name: name, label: label, unit: unit, minimum: range.lowerBound, maximum: range.upperBound,
                            defaultValue: value, positions: [], conditioningIndex: conditioningIndex,
                            conditioningRange: conditioningIndex == nil ? [] : [conditioningRange.lowerBound, conditioningRange.upperBound],
                            conditioningValues: [])
        if let g = outputGainDecibels { spec.outputGainDecibels = [g.lowerBound, g.upperBound] }
        return spec
    }

    public static func switchKnob(_ name: String, label: String, positions: [String], default position: Int,
                                  conditioningIndex: Int, conditioningValues: [Double]? = nil) -> KnobSpec {
        KnobSpec(name: name, label: label, unit: "", minimum: 0, maximum: Double(positions.count - 1),
                 defaultValue: Double(position), positions: positions, conditioningIndex: conditioningIndex,
                 conditioningRange: [], conditioningValues: conditioningValues ?? positions.indices.map(Double.init))
    }

    enum CodingKeys: String, CodingKey {
        case name, label, unit, minimum = "min", maximum = "max", defaultValue = "default", positions
        case conditioningIndex = "input", conditioningRange = "input_range", conditioningValues = "input_values"
        case outputGainDecibels = "output_gain_db"
    }

    public init(name: String, label: String, unit: String, minimum: Double, maximum: Double, defaultValue: Double,
                positions: [String], conditioningIndex: Int?, conditioningRange: [Double], conditioningValues: [Double]) {
        self.name = name
        self.label = label
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
        self.defaultValue = defaultValue
        self.positions = positions
        self.conditioningIndex = conditioningIndex
        self.conditioningRange = conditioningRange
        self.conditioningValues = conditioningValues
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        label = try c.decodeIfPresent(String.self, forKey: .label) ?? name
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? ""
        positions = try c.decodeIfPresent([String].self, forKey: .positions) ?? []
        outputGainDecibels = try c.decodeIfPresent([Double].self, forKey: .outputGainDecibels) ?? []
        // Only a knob that sets the output gain may leave out its input.
        conditioningIndex = outputGainDecibels.isEmpty ? try c.decode(Int.self, forKey: .conditioningIndex)
            : try c.decodeIfPresent(Int.self, forKey: .conditioningIndex)
        if positions.isEmpty {
            minimum = try c.decode(Double.self, forKey: .minimum)
            maximum = try c.decode(Double.self, forKey: .maximum)
            defaultValue = try c.decode(Double.self, forKey: .defaultValue)
            conditioningRange = conditioningIndex == nil ? []
                : try c.decodeIfPresent([Double].self, forKey: .conditioningRange) ?? [0, 1]
            conditioningValues = []
        } else {
            minimum = 0
            maximum = Double(positions.count - 1)
            if let position = try? c.decode(String.self, forKey: .defaultValue), let i = positions.firstIndex(of: position) {
                defaultValue = Double(i)
            } else {
                defaultValue = try c.decodeIfPresent(Double.self, forKey: .defaultValue) ?? 0
            }
            conditioningValues = try c.decodeIfPresent([Double].self, forKey: .conditioningValues)
                ?? positions.indices.map(Double.init)
            conditioningRange = []
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(label, forKey: .label)
        try c.encode(unit, forKey: .unit)
        try c.encodeIfPresent(conditioningIndex, forKey: .conditioningIndex)
        if isSwitch {
            try c.encode(positions, forKey: .positions)
            try c.encode(positions[Int(defaultValue)], forKey: .defaultValue)
            try c.encode(conditioningValues, forKey: .conditioningValues)
        } else {
            try c.encode(minimum, forKey: .minimum)
            try c.encode(maximum, forKey: .maximum)
            try c.encode(defaultValue, forKey: .defaultValue)
            if conditioningIndex != nil { try c.encode(conditioningRange, forKey: .conditioningRange) }
            if !outputGainDecibels.isEmpty { try c.encode(outputGainDecibels, forKey: .outputGainDecibels) }
        }
    }

    /// The conditioning input for a value (switch values are rounded to the
    /// nearest position; a ramp between positions interpolates).
    public func conditioning(for value: Double) -> Double {
        if isSwitch {
            let clamped = min(max(value, 0), Double(positions.count - 1))
            let lower = Int(clamped.rounded(.down))
            let upper = min(lower + 1, positions.count - 1)
            let frac = clamped - Double(lower)
            return conditioningValues[lower] * (1 - frac) + conditioningValues[upper] * frac
        }
        let span = maximum - minimum
        let normalized = span == 0 ? 0 : (value - minimum) / span
        return conditioningRange[0] + normalized * (conditioningRange[1] - conditioningRange[0])
    }

    /// The output gain (linear) a value sets; 1 when the knob sets none.
    public func outputGain(for value: Double) -> Double {
        guard outputGainDecibels.count == 2 else { return 1 }
        let span = maximum - minimum
        let normalized = span == 0 ? 0 : min(max((value - minimum) / span, 0), 1)
        let decibels = outputGainDecibels[0] + normalized * (outputGainDecibels[1] - outputGainDecibels[0])
        return Double.exp(decibels * (Double.log(10) / 20))
    }

    /// How the value reads to a person: "0.4", "limit".
    public func describe(_ value: Double) -> String {
        if isSwitch {
            // Clamped as a Double: a value far outside (or NaN) has no Int.
            let clamped = value.isNaN ? 0 : min(max(value.rounded(), 0), Double(positions.count - 1))
            return positions[Int(clamped)]
        }
        return formatKnobNumber(value) + (unit.isEmpty ? "" : " \(unit)")
    }

    public var rangeDescription: String {
        isSwitch ? positions.joined(separator: "|") : "\(formatKnobNumber(minimum))..\(formatKnobNumber(maximum))"
    }
}

/// Why a knob setting was refused. Each reads as one line for the user.
public enum KnobError: Error, Equatable, CustomStringConvertible {
    case unknownKnob(String, valid: [String])
    case notANumber(knob: String, text: String)
    case outOfRange(knob: String, value: String, range: String)
    case unknownPosition(knob: String, text: String, positions: [String])
    case malformed(String)

    public var description: String {
        switch self {
        case let .unknownKnob(name, valid):
            return valid.isEmpty ? "unknown knob '\(name)': this model has no knobs"
                : "unknown knob '\(name)'; valid knobs: \(valid.joined(separator: ", "))"
        case let .notANumber(knob, text):
            return "knob '\(knob)': '\(text)' is not a number"
        case let .outOfRange(knob, value, range):
            return "knob '\(knob)': value \(value) is outside its range \(range)"
        case let .unknownPosition(knob, text, positions):
            return "knob '\(knob)': '\(text)' is not one of \(positions.joined(separator: ", "))"
        case let .malformed(text):
            return "knob setting '\(text)' is not of the form name=value"
        }
    }
}

/// The knobs of a model and the map from their values to the network's
/// conditioning vector.
public struct KnobSchema: Codable, Equatable, Sendable {
    public var knobs: [KnobSpec]
    /// Length of the conditioning vector the knobs feed.
    public var conditioningSize: Int

    public init(_ knobs: [KnobSpec], conditioningSize: Int? = nil) {
        self.knobs = knobs
        self.conditioningSize = conditioningSize ?? ((knobs.compactMap(\.conditioningIndex).max() ?? -1) + 1)
    }

    public static let empty = KnobSchema([])

    public var count: Int { knobs.count }
    public var names: [String] { knobs.map(\.name) }
    public var defaults: [Double] { knobs.map(\.defaultValue) }

    public func index(of name: String) -> Int? { knobs.firstIndex { $0.name == name } }

    /// Checks that the schema is consistent with a network taking
    /// `conditioningSize` inputs; returns a reason when it is not.
    public func inconsistency(conditioningSize expected: Int) -> String? {
        if conditioningSize != expected {
            return "the knobs feed \(conditioningSize) conditioning inputs but the network takes \(expected)"
        }
        var seen = Set<String>()
        for k in knobs {
            if !seen.insert(k.name).inserted { return "knob '\(k.name)' is declared twice" }
            if let index = k.conditioningIndex, index < 0 || index >= expected {
                return "knob '\(k.name)' drives conditioning input \(index), outside 0..<\(expected)"
            }
            if k.isSwitch {
                if k.conditioningIndex == nil { return "switch '\(k.name)' drives no conditioning input" }
                if k.conditioningValues.count != k.positions.count { return "switch '\(k.name)' needs one input value per position" }
                if !k.positions.indices.contains(Int(exactly: k.defaultValue) ?? -1) {
                    return "switch '\(k.name)' has its default outside its positions"
                }
                if !k.outputGainDecibels.isEmpty { return "switch '\(k.name)' cannot set an output gain" }
            } else {
                if !(k.minimum < k.maximum) || !k.minimum.isFinite || !k.maximum.isFinite { return "knob '\(k.name)' has an empty range" }
                if !(k.minimum...k.maximum).contains(k.defaultValue) { return "knob '\(k.name)' has its default outside its range" }
                if k.conditioningIndex != nil && k.conditioningRange.count != 2 {
                    return "knob '\(k.name)' needs an input_range of two numbers"
                }
                if !k.outputGainDecibels.isEmpty
                    && (k.outputGainDecibels.count != 2 || !k.outputGainDecibels.allSatisfy({ $0.isFinite && abs($0) <= 120 })) {
                    return "knob '\(k.name)' needs an output_gain_db of two numbers within ±120 dB"
                }
            }
        }
        return nil
    }

    /// Parses a value given as text: a number in range, or a switch position
    /// by name or index.
    public func value(of name: String, from text: String) throws -> (index: Int, value: Double) {
        guard let i = index(of: name) else { throw KnobError.unknownKnob(name, valid: names) }
        let k = knobs[i]
        let trimmed = text.trimmingSpaces
        if k.isSwitch {
            if let p = k.positions.firstIndex(where: { $0.lowercased() == trimmed.lowercased() }) { return (i, Double(p)) }
            if let n = Int(trimmed), k.positions.indices.contains(n) { return (i, Double(n)) }
            throw KnobError.unknownPosition(knob: name, text: text, positions: k.positions)
        }
        guard let v = Double(trimmed), v.isFinite else { throw KnobError.notANumber(knob: name, text: text) }
        guard v >= k.minimum && v <= k.maximum else {
            throw KnobError.outOfRange(knob: name, value: trimmed, range: k.rangeDescription)
        }
        return (i, v)
    }

    /// Parses `name=value`.
    public func setting(_ text: String) throws -> (index: Int, value: Double) {
        guard let eq = text.firstIndex(of: "=") else { throw KnobError.malformed(text) }
        let name = String(text[..<eq]).trimmingSpaces
        guard !name.isEmpty else { throw KnobError.malformed(text) }
        return try value(of: name, from: String(text[text.index(after: eq)...]))
    }

    /// Fills `conditioning` (length `conditioningSize`) from knob values.
    /// Inputs no knob drives stay zero.
    public func conditioning(for values: UnsafePointer<Double>, into conditioning: UnsafeMutablePointer<Float>) {
        conditioning.update(repeating: 0, count: conditioningSize)
        for (i, k) in knobs.enumerated() {
            if let index = k.conditioningIndex { conditioning[index] = Float(k.conditioning(for: values[i])) }
        }
    }

    /// Whether any knob scales the model's output.
    public var setsOutputGain: Bool { knobs.contains { !$0.outputGainDecibels.isEmpty } }

    /// The output gain (linear) the knobs set together.
    public func outputGain(for values: UnsafePointer<Double>) -> Double {
        var gain = 1.0
        for (i, k) in knobs.enumerated() where !k.outputGainDecibels.isEmpty { gain *= k.outputGain(for: values[i]) }
        return gain
    }
}

/// Whole numbers without a decimal point; others to at most six decimals.
func formatKnobNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
    return String((v * 1e6).rounded() / 1e6)
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
