import Foundation
import NeuralFXCore

/// A saved setting of a model: which model, its knob values by name, and
/// input/output gain. Stored as JSON:
///
///     { "model": "la2a", "description": "gentle leveling",
///       "knobs": { "peak": 0.4, "mode": "compress" },
///       "input_gain_db": 0, "output_gain_db": -1.5 }
///
/// Every key but `knobs` is optional. A switch takes its position by name
/// (or index); knobs not named keep the model's defaults.
public struct Preset: Equatable, Sendable {
    public enum KnobValue: Equatable, Sendable {
        case number(Double)
        case position(String)

        /// The value as `KnobSchema` parses it from text.
        var text: String {
            switch self {
            case let .number(v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
            case let .position(p): return p
            }
        }
    }

    /// Gains beyond this many dB either way are taken for a mistake.
    public static let gainLimit = 60.0
    public static let keys = ["model", "description", "knobs", "input_gain_db", "output_gain_db"]

    public var model: String?
    public var description: String
    public var knobs: [(name: String, value: KnobValue)]
    public var inputGainDB: Double
    public var outputGainDB: Double

    public init(model: String? = nil, description: String = "", knobs: [(name: String, value: KnobValue)] = [],
                inputGainDB: Double = 0, outputGainDB: Double = 0) {
        self.model = model
        self.description = description
        self.knobs = knobs
        self.inputGainDB = inputGainDB
        self.outputGainDB = outputGainDB
    }

    public static func == (a: Preset, b: Preset) -> Bool {
        a.model == b.model && a.description == b.description && a.inputGainDB == b.inputGainDB
            && a.outputGainDB == b.outputGainDB && a.knobs.map(\.name) == b.knobs.map(\.name)
            && a.knobs.map(\.value) == b.knobs.map(\.value)
    }

    public static func load(path: String) throws -> Preset {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PresetError(source: path, reason: "cannot be read")
        }
        return try Preset(json: data, source: path)
    }

    /// Parses preset JSON; `source` names it in errors.
    public init(json data: Data, source: String) throws {
        func fail(_ reason: String) -> PresetError { PresetError(source: source, reason: reason) }
        let parsed: JSONValue
        do {
            parsed = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw fail("is not valid JSON")
        }
        guard case let .object(top) = parsed else { throw fail("must be a JSON object") }
        if let unknown = top.keys.sorted().first(where: { !Preset.keys.contains($0) }) {
            throw fail("unknown key '\(unknown)' (expected \(Preset.keys.joined(separator: ", ")))")
        }
        if let m = top["model"] {
            guard case let .string(name) = m, !name.isEmpty else { throw fail("'model' must be a non-empty string") }
            model = name
        } else {
            model = nil
        }
        if let d = top["description"] {
            guard case let .string(text) = d else { throw fail("'description' must be a string") }
            description = text
        } else {
            description = ""
        }
        func gain(_ key: String) throws -> Double {
            guard let raw = top[key] else { return 0 }
            guard case let .number(number) = raw, number.isFinite, abs(number) <= Preset.gainLimit else {
                throw fail("'\(key)' must be a number of dB within ±\(Int(Preset.gainLimit))")
            }
            return number
        }
        inputGainDB = try gain("input_gain_db")
        outputGainDB = try gain("output_gain_db")
        guard let knobObject = top["knobs"] else { throw fail("has no 'knobs'") }
        guard case let .object(knobDictionary) = knobObject else {
            throw fail("'knobs' must be an object of name: value")
        }
        knobs = try knobDictionary.keys.sorted().map { name in
            switch knobDictionary[name]! {
            case let .number(number): return (name, .number(number))
            case let .string(position): return (name, .position(position))
            default: throw fail("knob '\(name)' must be a number or a switch position name")
            }
        }
    }

    /// The preset as JSON (keys sorted, for stable files).
    public func json() -> Data {
        var object: [String: Any] = [
            "knobs": Dictionary(uniqueKeysWithValues: knobs.map { knob -> (String, Any) in
                switch knob.value {
                case let .number(v): return (knob.name, v)
                case let .position(p): return (knob.name, p)
                }
            }),
            "input_gain_db": inputGainDB, "output_gain_db": outputGainDB,
        ]
        if let model { object["model"] = model }
        if !description.isEmpty { object["description"] = description }
        return try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// The knob settings this preset makes on a model with `schema`, checked
    /// against it (unknown knob, value out of range, unknown position).
    public func settings(for schema: KnobSchema, source: String) throws -> [(index: Int, value: Double)] {
        try knobs.map { knob in
            do {
                return try schema.value(of: knob.name, from: knob.value.text)
            } catch let error as KnobError {
                throw PresetError(source: source, reason: error.description)
            }
        }
    }
}

/// Any JSON value, keeping numbers, booleans and strings apart (so that
/// `true` is not taken for the knob value 1).
private enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Why a preset was refused. Reads as one line.
public struct PresetError: Error, Equatable, CustomStringConvertible {
    public let source: String
    public let reason: String
    public var description: String { "preset '\(source)': \(reason)" }
}
