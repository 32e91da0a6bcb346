import Foundation
import NeuralFXCore

/// The native dataset layout: WAV pairs plus `manifest.json`:
///
///     { "sample_rate": 44100,
///       "knobs": [ KnobSpec, ... ],            // optional; the model's knobs (or a KnobSchema object)
///       "pairs": [ { "input": "in/0001.wav", "target": "out/0001.wav",
///                    "knobs": { "peak_reduction": 40, "mode": 1 },
///                    "split": "train" }, ... ] }
///
/// Paths are relative to the folder. Without `knobs` specs, each knob named
/// in the pairs becomes a continuous knob over the values seen, fed to the
/// network scaled to 0...1.
public enum NativeManifest {
    public static let fileName = "manifest.json"

    struct Manifest: Decodable {
        var sampleRate: Int?
        var knobs: [KnobSpec]?
        var pairs: [Entry]
        /// The reference device `fxtrain dataset` rendered the targets with.
        var device: String?
        enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", knobs, pairs, device }

        /// `knobs` is a plain list of knob specs (hand-written manifests) or a
        /// whole knob schema (manifests `fxtrain dataset` writes).
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sampleRate = try c.decodeIfPresent(Int.self, forKey: .sampleRate)
            pairs = try c.decode([Entry].self, forKey: .pairs)
            device = try? c.decodeIfPresent(String.self, forKey: .device)
            if let list = try? c.decodeIfPresent([KnobSpec].self, forKey: .knobs) {
                knobs = list
            } else {
                knobs = try c.decodeIfPresent(KnobSchema.self, forKey: .knobs)?.knobs
            }
        }
    }

    struct Entry: Decodable {
        var input: String
        var target: String
        var knobs: [String: Double]?
        var split: String?
    }

    /// What a manifest says, checked, before any audio is read.
    public struct Contents {
        public struct Pair {
            /// Paths relative to the dataset folder.
            public var input: String
            public var target: String
            /// In the order of `knobNames`.
            public var knobValues: [Double]
            public var split: DataSplit?
        }
        public var sampleRate: Int?
        public var device: String?
        public var knobSpecs: [KnobSpec]?
        public var knobNames: [String]
        public var pairs: [Pair]
    }

    /// Decodes and checks manifest bytes: pairs present, every knob valued in
    /// every pair, known split names. `path` names the manifest in errors.
    public static func parse(_ data: Data, path: String) throws -> Contents {
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw DatasetError("'\(path)' is not a valid manifest: \(describe(error))")
        }
        guard !manifest.pairs.isEmpty else { throw DatasetError("'\(path)' lists no pairs") }
        if let specs = manifest.knobs {
            let schema = KnobSchema(specs)
            if let problem = schema.inconsistency(conditioningSize: schema.conditioningSize) {
                throw DatasetError("'\(path)': \(problem)")
            }
        }
        let names = manifest.knobs?.map(\.name) ?? Array(Set(manifest.pairs.flatMap { ($0.knobs ?? [:]).keys })).sorted()
        var pairs: [Contents.Pair] = []
        for (i, entry) in manifest.pairs.enumerated() {
            var values: [Double] = []
            for name in names {
                guard let v = entry.knobs?[name] else {
                    throw DatasetError("pair \(i + 1) (\(entry.target)) in '\(path)' has no value for knob '\(name)'")
                }
                values.append(v)
            }
            var split: DataSplit?
            if let label = entry.split {
                guard let s = DataSplit(label: label) else {
                    throw DatasetError("pair \(i + 1) in '\(path)' has split '\(label)'; use train, val or test")
                }
                split = s
            }
            pairs.append(Contents.Pair(input: entry.input, target: entry.target, knobValues: values, split: split))
        }
        return Contents(sampleRate: manifest.sampleRate, device: manifest.device, knobSpecs: manifest.knobs,
                        knobNames: names, pairs: pairs)
    }

    static func load(directory: String, decode: Bool = true) throws -> TrainingDataset {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read '\(path)'") }
        let manifest = try parse(data, path: path)
        var pairs: [TrainingPair] = []
        for entry in manifest.pairs {
            let inputPath = (directory as NSString).appendingPathComponent(entry.input)
            let targetPath = (directory as NSString).appendingPathComponent(entry.target)
            let input = try readMonoAudio(inputPath, decode: decode), target = try readMonoAudio(targetPath, decode: decode)
            guard input.sampleRate == target.sampleRate else {
                throw DatasetError("'\(entry.input)' is at \(input.sampleRate) Hz but '\(entry.target)' at \(target.sampleRate) Hz")
            }
            if let rate = manifest.sampleRate, rate != input.sampleRate {
                throw DatasetError("'\(entry.input)' is at \(input.sampleRate) Hz but the manifest says \(rate) Hz")
            }
            pairs.append(TrainingPair(name: (entry.target as NSString).lastPathComponent, inputPath: inputPath, targetPath: targetPath,
                                      knobValues: entry.knobValues, input: input.samples, target: target.samples,
                                      sampleRate: input.sampleRate, split: entry.split))
        }
        let schema: KnobSchema
        if let specs = manifest.knobSpecs {
            schema = KnobSchema(specs)
        } else {
            schema = KnobSchema(manifest.knobNames.enumerated().map { i, name in
                let seen = pairs.map { $0.knobValues[i] }
                let lo = seen.min()!, hi = max(seen.max()!, lo + 1e-9)
                return KnobSpec.continuous(name, label: name, range: lo...hi, default: lo, conditioningIndex: i)
            })
        }
        var dataset = TrainingDataset(layout: "native manifest", knobs: schema, pairs: pairs)
        dataset.referenceDevice = manifest.device
        return dataset
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default: return "\(error)"
        }
    }
}
