import Foundation
import NeuralFXCore

/// `manifest.json` of a rendered dataset: what was rendered from which
/// device, and for every pair its files, split and knob values.
public struct DatasetManifest: Codable, Equatable, Sendable {
    public static let formatName = "neuralfx-dataset"
    public static let fileName = "manifest.json"

    public struct Pair: Codable, Equatable, Sendable {
        public var id: String
        public var split: DatasetSplit
        /// Paths relative to the dataset folder.
        public var input: String
        public var target: String
        public var frames: Int
        /// Knob values by name (a switch by position index).
        public var knobs: [String: Double]
    }

    public var format: String
    public var version: Int
    public var device: String
    public var layout: String
    public var sampling: String
    public var seed: UInt64
    public var sampleRate: Int
    public var knobSchema: KnobSchema
    /// Names of the recordings mixed into the dry material.
    public var dryClips: [String]
    public var pairs: [Pair]

    enum CodingKeys: String, CodingKey {
        case format, version, device, layout, sampling, seed, pairs
        case sampleRate = "sample_rate", knobSchema = "knobs", dryClips = "dry_clips"
    }

    public init(plan: DatasetPlan, dryClips: [String] = []) {
        self.dryClips = dryClips
        format = Self.formatName
        version = 1
        device = plan.spec.device.rawValue
        layout = plan.spec.layout.rawValue
        sampling = plan.spec.fixedSetting == nil ? plan.spec.sampling.rawValue : "fixed"
        seed = plan.spec.seed
        sampleRate = Int(plan.spec.sampleRate)
        let schema = plan.spec.device.knobs
        knobSchema = schema
        pairs = plan.pairs.map { p in
            let files = plan.files(for: p)
            var knobs: [String: Double] = [:]
            for (k, v) in zip(schema.knobs, p.knobValues) { knobs[k.name] = v }
            return Pair(id: String(p.index + 1).leftPadded(to: 3), split: p.split, input: files.input,
                        target: files.target, frames: p.frames, knobs: knobs)
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads and checks a manifest: format, and knob values that the schema
    /// accepts.
    public static func load(from path: String) throws -> DatasetManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.badManifest("cannot read '\(path)'")
        }
        return try decode(data, path: path)
    }

    /// Checks manifest bytes as `load(from:)` does; `path` names them in errors.
    public static func decode(_ data: Data, path: String) throws -> DatasetManifest {
        let manifest: DatasetManifest
        do { manifest = try JSONDecoder().decode(DatasetManifest.self, from: data) } catch {
            throw DatasetError.badManifest("'\(path)' is not a valid manifest (\(error))")
        }
        guard manifest.format == formatName else {
            throw DatasetError.badManifest("'\(path)' has format '\(manifest.format)', expected '\(formatName)'")
        }
        if let problem = manifest.knobSchema.inconsistency(conditioningSize: manifest.knobSchema.conditioningSize) {
            throw DatasetError.badManifest("'\(path)': \(problem)")
        }
        for pair in manifest.pairs {
            for knob in manifest.knobSchema.knobs {
                guard let value = pair.knobs[knob.name] else {
                    throw DatasetError.badManifest("pair \(pair.id) has no value for knob '\(knob.name)'")
                }
                let valid = knob.isSwitch ? Int(exactly: value).map(knob.positions.indices.contains) ?? false
                    : (knob.minimum...knob.maximum).contains(value)
                guard valid else {
                    throw DatasetError.badManifest("pair \(pair.id): \(knob.name) = \(value) is outside \(knob.rangeDescription)")
                }
            }
        }
        return manifest
    }
}
