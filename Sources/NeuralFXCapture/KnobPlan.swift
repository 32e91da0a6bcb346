import Foundation
import NeuralFXCore

/// Which knob settings a session captures, in which order, and how the
/// gear gets to each one: a person turning knobs (the grid of `--knobs`,
/// prompted setting by setting) or a plan file (`--plan`) for motorized or
/// digital gear, whose optional `command` sets the unit before each
/// setting.
///
/// A plan file:
///
///     { "knobs": [ { "name": "peak", "label": "Peak Reduction", "values": [0, 0.5, 1] },
///                  { "name": "mode", "positions": ["compress", "limit"] } ],
///       "settings": [ { "peak": 0, "mode": "compress" }, { "peak": 0.5, "mode": "limit" } ],
///       "command": "set-my-unit $NFX_KNOB_PEAK $NFX_KNOB_MODE",
///       "settle_seconds": 1 }
///
/// `settings` is optional (the grid of the knobs' values, as `--knobs`
/// makes it); a switch's value is one of its positions by name.
public struct KnobPlan: Codable, Equatable, Sendable {
    public struct Knob: Codable, Equatable, Sendable {
        public var name: String
        public var label: String
        /// A continuous knob's values, in the order given.
        public var values: [Double]
        /// A switch's positions; empty for a continuous knob.
        public var positions: [String]
        public var isSwitch: Bool { !positions.isEmpty }

        public init(name: String, label: String? = nil, values: [Double] = [], positions: [String] = []) {
            self.name = name
            self.label = label ?? name
            self.values = values
            self.positions = positions
        }

        enum CodingKeys: String, CodingKey { case name, label, values, positions }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            label = try c.decodeIfPresent(String.self, forKey: .label) ?? name
            values = try c.decodeIfPresent([Double].self, forKey: .values) ?? []
            positions = try c.decodeIfPresent([String].self, forKey: .positions) ?? []
        }

        /// The value as a person reads it: "0.25", "limit".
        public func describe(_ value: Double) -> String {
            isSwitch ? positions[Int(value)] : String(format: "%g", value)
        }
    }

    public var knobs: [Knob]
    /// Each setting's values in knob order (a switch's as its position index).
    public var settings: [[Double]]
    /// Run by `/bin/sh -c` before each setting, with the setting in the
    /// environment (`NFX_SETTING`, `NFX_KNOB_<NAME>`); nil: a person sets the gear.
    public var command: String?
    /// Seconds to wait after `command` before playing (relays, motors, presets loading).
    public var settleSeconds: Double

    /// More settings than a session can sensibly capture (1000 of the default
    /// 3 minutes is two days); a grid is counted before it is made, so a
    /// typo of ten knobs with ten values each is refused, not built.
    public static let maximumSettings = 1000

    public init(knobs: [Knob], settings: [[Double]]? = nil, command: String? = nil, settleSeconds: Double = 1) throws {
        self.knobs = knobs
        self.settings = try settings ?? Self.checkedGrid(knobs)
        self.command = command
        self.settleSeconds = settleSeconds
        try check()
    }

    enum CodingKeys: String, CodingKey { case knobs, settings, command, settleSeconds = "settle_seconds" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var knobs = try c.decode([Knob].self, forKey: .knobs)
        command = try c.decodeIfPresent(String.self, forKey: .command)
        settleSeconds = try c.decodeIfPresent(Double.self, forKey: .settleSeconds) ?? 1
        // Settings name their knobs; a switch is set by position name (or index).
        if let given = try c.decodeIfPresent([[String: KnobValue]].self, forKey: .settings) {
            // A continuous knob listed without values takes the values its settings give it.
            for k in knobs.indices where !knobs[k].isSwitch && knobs[k].values.isEmpty {
                var seen: [Double] = []
                for setting in given { if case let .number(n)? = setting[knobs[k].name], !seen.contains(n) { seen.append(n) } }
                knobs[k].values = seen
            }
            self.knobs = knobs
            settings = try given.enumerated().map { [knobs] i, setting in
                for name in setting.keys where !knobs.contains(where: { $0.name == name }) {
                    throw CaptureError("setting \(i + 1) names knob '\(name)', which the plan's knobs do not list")
                }
                return try knobs.map { knob in
                    guard let v = setting[knob.name] else { throw CaptureError("setting \(i + 1) gives no value for knob '\(knob.name)'") }
                    switch (v, knob.isSwitch) {
                    case let (.text(t), true):
                        guard let p = knob.positions.firstIndex(where: { $0.lowercased() == t.lowercased() }) else {
                            throw CaptureError("setting \(i + 1): '\(t)' is not a position of '\(knob.name)' (\(knob.positions.joined(separator: ", ")))")
                        }
                        return Double(p)
                    case let (.number(n), true):
                        guard let p = Int(exactly: n), knob.positions.indices.contains(p) else {
                            throw CaptureError("setting \(i + 1): \(n) is not a position of '\(knob.name)' (\(knob.positions.joined(separator: ", ")))")
                        }
                        return Double(p)
                    case let (.number(n), false): return n
                    case let (.text(t), false):
                        throw CaptureError("setting \(i + 1): knob '\(knob.name)' takes a number, not '\(t)'")
                    }
                }
            }
        } else {
            self.knobs = knobs
            settings = try Self.checkedGrid(knobs)
        }
        try check()
    }

    static func checkedGrid(_ knobs: [Knob]) throws -> [[Double]] {
        var count = 1
        for k in knobs {
            count = count.multipliedReportingOverflow(by: max(k.isSwitch ? k.positions.count : k.values.count, 1)).partialValue
            if count > maximumSettings || count <= 0 {
                throw CaptureError("the knobs make a grid of more than \(maximumSettings) settings; capture fewer values per knob")
            }
        }
        return grid(knobs)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(knobs, forKey: .knobs)
        try c.encode(settings.map { values in
            Dictionary(uniqueKeysWithValues: zip(knobs, values).map { knob, v in
                (knob.name, knob.isSwitch ? KnobValue.text(knob.positions[Int(v)]) : .number(v))
            })
        }, forKey: .settings)
        try c.encodeIfPresent(command, forKey: .command)
        try c.encode(settleSeconds, forKey: .settleSeconds)
    }

    /// A value in a plan file: a number, or a switch position by name.
    enum KnobValue: Codable, Equatable {
        case number(Double), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Double.self) { self = .number(n) } else { self = .text(try c.decode(String.self)) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let n): try c.encode(n)
            case .text(let t): try c.encode(t)
            }
        }
    }

    /// `--knobs "peak=0,0.25,0.5 mode=compress,limit"`: knobs separated by
    /// spaces, values by commas; numbers make a continuous knob, names a switch.
    public static func parseGrid(_ text: String) throws -> KnobPlan {
        var knobs: [Knob] = []
        for item in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CaptureError("--knobs: '\(item)' is not NAME=VALUE,VALUE,... (e.g. peak=0,0.5,1 mode=compress,limit)")
            }
            let name = String(item[..<eq])
            let values = item[item.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !values.contains(where: \.isEmpty) else { throw CaptureError("--knobs: knob '\(name)' has an empty value in '\(item)'") }
            let numbers = values.compactMap { Double($0) }
            if numbers.count == values.count {
                guard numbers.allSatisfy(\.isFinite) else { throw CaptureError("--knobs: knob '\(name)' has a value that is not finite") }
                knobs.append(Knob(name: name, values: numbers))
            } else if numbers.isEmpty {
                knobs.append(Knob(name: name, positions: values))
            } else {
                throw CaptureError("--knobs: knob '\(name)' mixes numbers and names; a knob is either numbers or switch positions")
            }
        }
        return try KnobPlan(knobs: knobs)
    }

    /// Reads a plan file; every problem is one line naming the file.
    public static func load(path: String) throws -> KnobPlan {
        guard let data = FileManager.default.contents(atPath: path) else { throw CaptureError("cannot read the plan file '\(path)'") }
        return try decode(data, path: path)
    }

    /// A plan from the bytes of a plan file; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> KnobPlan {
        do { return try JSONDecoder().decode(KnobPlan.self, from: data) } catch let e as CaptureError {
            throw CaptureError("plan '\(path)': \(e.description)")
        } catch {
            throw CaptureError("plan '\(path)' is not a valid plan: \(describeDecodingError(error))")
        }
    }

    /// Every combination of the knobs' values. The first knob changes
    /// fastest and each sweep runs back the way the last one came
    /// (0 .. 1 at compress, then 1 .. 0 at limit), so from one setting to
    /// the next the user turns exactly one knob.
    static func grid(_ knobs: [Knob]) -> [[Double]] {
        guard !knobs.isEmpty else { return [] }
        var settings: [[Double]] = [[]]
        for knob in knobs {
            let own = knob.isSwitch ? knob.positions.indices.map(Double.init) : knob.values
            var next: [[Double]] = []
            for (j, v) in own.enumerated() {
                // The faster knobs so far, forward under even values of this one, backward under odd ones.
                next += (j % 2 == 0 ? settings : settings.reversed()).map { $0 + [v] }
            }
            settings = next
        }
        return settings
    }

    func check() throws {
        guard !knobs.isEmpty else { throw CaptureError("name at least one knob (e.g. --knobs \"peak=0,0.5,1\")") }
        var seen = Set<String>()
        for k in knobs {
            guard !k.name.isEmpty, k.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw CaptureError("knob name '\(k.name)' must be letters, digits, '_' or '-'")
            }
            guard seen.insert(k.name).inserted else { throw CaptureError("knob '\(k.name)' is named twice") }
            if k.isSwitch {
                guard k.values.isEmpty else { throw CaptureError("knob '\(k.name)' has both values and positions") }
                guard Set(k.positions).count == k.positions.count else { throw CaptureError("switch '\(k.name)' names a position twice") }
                guard k.positions.count >= 2 else {
                    throw CaptureError("switch '\(k.name)' has one position; give at least two, or leave it out")
                }
            } else {
                guard k.values.allSatisfy(\.isFinite) else { throw CaptureError("knob '\(k.name)' has a value that is not finite") }
                guard Set(k.values).count >= 2 else {
                    throw CaptureError("knob '\(k.name)' needs at least two different values (a model learns a knob from how the gear changes with it)")
                }
            }
        }
        guard !settings.isEmpty else { throw CaptureError("the plan has no settings") }
        guard settings.count <= Self.maximumSettings else {
            throw CaptureError("the plan has \(settings.count) settings, more than \(Self.maximumSettings)")
        }
        for (i, s) in settings.enumerated() {
            guard s.count == knobs.count else { throw CaptureError("setting \(i + 1) gives \(s.count) values for \(knobs.count) knobs") }
        }
        let distinct = Set(settings)
        guard distinct.count == settings.count else { throw CaptureError("the plan lists a setting twice") }
        guard settleSeconds.isFinite, settleSeconds >= 0, settleSeconds <= 600 else {
            throw CaptureError("settle_seconds must be within 0...600")
        }
    }

    /// "PEAK REDUCTION to 0.25, MODE to limit": what the user sets.
    public func describe(setting index: Int) -> String {
        zip(knobs, settings[index]).map { "\($0.label.uppercased()) to \($0.describe($1))" }.joined(separator: ", ")
    }

    /// "peak 0.25, mode limit": short, for progress lines.
    public func shortDescription(setting index: Int) -> String {
        zip(knobs, settings[index]).map { "\($0.name) \($0.describe($1))" }.joined(separator: ", ")
    }

    /// The setting's values by knob name, as the dataset manifest stores them.
    public func knobValues(setting index: Int) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(knobs.map(\.name), settings[index]))
    }

    /// The environment a plan command sees.
    public func environment(setting index: Int) -> [String: String] {
        var env = ["NFX_SETTING": "\(index + 1)", "NFX_SETTINGS": "\(settings.count)"]
        for (k, v) in zip(knobs, settings[index]) {
            let key = "NFX_KNOB_" + k.name.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            env[key] = k.describe(v)
        }
        return env
    }

    /// The knobs as a model's schema: conditioning inputs in the plan's
    /// order; a continuous knob ranges over its captured values.
    public var schema: KnobSchema {
        KnobSchema(knobs.enumerated().map { i, k in
            if k.isSwitch {
                return KnobSpec.switchKnob(k.name, label: k.label, positions: k.positions, default: 0, conditioningIndex: i)
            }
            // Over the values listed and the settings' values (a plan's settings may go between or beyond them).
            let used = k.values + settings.map { $0[i] }
            let lo = used.min()!, hi = used.max()!
            return KnobSpec.continuous(k.name, label: k.label, range: lo...hi, default: k.values[0], conditioningIndex: i)
        })
    }

    /// Settings held out whole for testing: about one in five of a plan of
    /// five or more, spread through the plan and away from its ends, so the
    /// held-out figures measure how the model does between the settings it
    /// learned. A smaller plan keeps every setting for training (one knob
    /// value left is nothing to learn a knob from): `fxtrain train` then
    /// holds out a stretch of each setting's program material instead.
    public static let wholeSettingHoldoutMinimum = 5

    public var heldOut: Set<Int> {
        let n = settings.count
        guard n >= Self.wholeSettingHoldoutMinimum else { return [] }
        let k = max(1, n / 5)
        var chosen = Set<Int>()
        for j in 0..<k {
            chosen.insert(min(max(Int((Double(j) + 0.5) * Double(n) / Double(k)), 1), n - 2))
        }
        return chosen
    }
}

func describeDecodingError(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return "missing '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(context.codingPath.map(\.stringValue).joined(separator: "."))")
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    case DecodingError.dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not JSON" : "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    default: return "\(error)"
    }
}
