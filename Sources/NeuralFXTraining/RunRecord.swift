/// What a run was asked to do beyond its settings: where its data and model
/// live and when it stops. Kept in checkpoints so `fxtrain train --resume CK`
/// alone continues to the original stopping point with the original files.
public struct RunRecord: Codable, Equatable, Sendable {
    /// Absolute paths, so a run resumes from any working directory.
    public var dataset: String
    public var out: String
    public var steps: Int?
    public var minutes: Double?
    public var epochs: Double?
    public var knobNames: [String]?

    public init(dataset: String, out: String, steps: Int?, minutes: Double?, epochs: Double?, knobNames: [String]?) {
        self.dataset = dataset
        self.out = out
        self.steps = steps
        self.minutes = minutes
        self.epochs = epochs
        self.knobNames = knobNames
    }

    /// The record for a resumed session: what the command line gives again
    /// wins, the rest comes from `saved`. `overrides` names each value given
    /// again that differs from the saved one, for the user to see. Without a
    /// saved record (a checkpoint from before records were kept) the command
    /// line must give everything.
    public static func resolve(given: RunRecordArguments, saved: RunRecord?) throws -> (record: RunRecord, overrides: [String]) {
        guard let saved else {
            guard let dataset = given.dataset, let out = given.out else {
                throw DatasetError("the checkpoint does not record its dataset and output; give DATASET and --out")
            }
            guard given.steps != nil || given.minutes != nil || given.epochs != nil else {
                throw DatasetError("the checkpoint does not record when the run stops; give --minutes, --epochs or --steps")
            }
            return (RunRecord(dataset: dataset, out: out, steps: given.steps, minutes: given.minutes, epochs: given.epochs,
                              knobNames: given.knobNames), [])
        }
        var record = saved
        var overrides: [String] = []
        func take<T: Equatable>(_ value: T?, _ path: WritableKeyPath<RunRecord, T>, _ flag: String, _ describe: (T) -> String) {
            guard let value, value != record[keyPath: path] else { return }
            overrides.append("\(flag) \(describe(value)) (the checkpoint has \(describe(record[keyPath: path])))")
            record[keyPath: path] = value
        }
        take(given.dataset, \.dataset, "DATASET") { $0 }
        take(given.out, \.out, "--out") { $0 }
        // A stopping point given again replaces all of the saved ones.
        if given.steps != nil || given.minutes != nil || given.epochs != nil {
            let before = saved.stopDescription
            record.steps = given.steps
            record.minutes = given.minutes
            record.epochs = given.epochs
            if record.stopDescription != before { overrides.append("\(record.stopDescription) (the checkpoint has \(before))") }
        }
        if let names = given.knobNames, names != saved.knobNames {
            overrides.append("--knob-names \(names.joined(separator: ",")) (the checkpoint has \(saved.knobNames?.joined(separator: ",") ?? "none"))")
            record.knobNames = names
        }
        return (record, overrides)
    }

    /// "--steps 40 --minutes 10", as the stopping point was given.
    public var stopDescription: String {
        var parts: [String] = []
        if let steps { parts.append("--steps \(steps)") }
        if let minutes { parts.append("--minutes \(formatNumber(minutes))") }
        if let epochs { parts.append("--epochs \(formatNumber(epochs))") }
        return parts.isEmpty ? "no stopping point" : parts.joined(separator: " ")
    }

    private func formatNumber(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v) }
}

/// The parts of a run record a command line gave (nil: not given).
public struct RunRecordArguments: Sendable {
    public var dataset: String?
    public var out: String?
    public var steps: Int?
    public var minutes: Double?
    public var epochs: Double?
    public var knobNames: [String]?

    public init(dataset: String?, out: String?, steps: Int?, minutes: Double?, epochs: Double?, knobNames: [String]?) {
        self.dataset = dataset
        self.out = out
        self.steps = steps
        self.minutes = minutes
        self.epochs = epochs
        self.knobNames = knobNames
    }
}
