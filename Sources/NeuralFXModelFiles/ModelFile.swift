import Foundation
import NeuralFXCore

/// Reads and writes NeuralFX model files: safetensors whose tensor names are
/// micro-tcn's PyTorch state_dict names (plus `env.log_tau` `[K]` and
/// `env.proj.weight` `[C, K, 1]` for models with `envelope_channels`, a
/// parameter and a bias-free `Conv1d` in PyTorch terms; see
/// `EnvelopeSideChain`), or a knob-conditioned NAM WaveNet's (see
/// `WaveNetModelFile`), with everything else in `__metadata__`:
///
/// - `architecture`: `micro-tcn` or `nam-wavenet`
/// - `config`: JSON of the hyperparameters (micro-tcn's own names, or NAM's
///   WaveNet layer arrays)
/// - `sample_rate`: the rate the model was trained at
/// - `knobs`: JSON array of knob descriptions (see `KnobSpec`)
/// - `name`, `description`: for people
/// - `provenance`: JSON object: what it was trained on, how, final metrics
public enum ModelFile {
    /// Model files are small; anything far larger is refused before reading.
    public static let maxFileBytes = 256 << 20

    public static let architectureKey = "architecture"
    public static let configKey = "config"
    public static let sampleRateKey = "sample_rate"
    public static let knobsKey = "knobs"
    public static let nameKey = "name"
    public static let descriptionKey = "description"
    public static let provenanceKey = "provenance"

    /// Loads any model file this project reads, chosen by extension and
    /// content: Neural Amp Modeler captures (.nam) or safetensors.
    public static func load(path: String) throws -> EffectModel {
        try load(readFile(path), path: path)
    }

    /// Loads a model file's bytes; `path` (possibly empty) names it in errors
    /// and its extension helps tell the format.
    public static func load(_ data: Data, path: String = "") throws -> EffectModel {
        if NAMModelFile.looksLikeNAM(data, path: path) { return try NAMModelFile.load(data, path: path) }
        return try loadSafetensors(data, path: path)
    }

    static func readFile(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFileError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw ModelFileError(path, "is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else { throw ModelFileError(path, "is \(size) bytes, larger than any model this reads") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelFileError(path, "cannot be read") }
        return data
    }

    /// Builds a model from safetensors bytes, validating every tensor against
    /// the declared architecture.
    public static func loadSafetensors(_ data: Data, path: String = "") throws -> EffectModel {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path, reason) }
        let (tensors, metadata) = try Safetensors.parse(data, path: path)
        guard let architecture = metadata[architectureKey] else {
            throw fail("has no 'architecture' in its metadata (convert micro-tcn checkpoints with tools/microtcn_to_safetensors.py)")
        }
        if architecture == WaveNetModelFile.architecture {
            return try WaveNetModelFile.load(tensors: tensors, metadata: metadata, path: path)
        }
        guard architecture == "micro-tcn" else {
            throw fail("architecture '\(architecture)' is not supported (supported: micro-tcn, \(WaveNetModelFile.architecture))")
        }
        guard let configText = metadata[configKey] else { throw fail("has no 'config' in its metadata") }
        let config: MicroTCNConfig
        do { config = try JSONDecoder().decode(MicroTCNConfig.self, from: Data(configText.utf8)) } catch {
            throw fail("metadata 'config' is not a valid micro-tcn configuration")
        }
        if let reason = config.unsupportedReason { throw fail(reason) }
        let rate = try sampleRate(metadata, path: path)
        let knobs = try knobSchema(metadata, conditioningSize: config.nparams, path: path)
        // BatchNorm's step counter rides along in PyTorch state_dicts; it has no role at inference.
        let values = try checkedTensors(tensors, expected: MicroTCNWeights.expectedShapes(config), path: path,
                                        ignoring: { $0.hasSuffix("num_batches_tracked") })
        for (name, v) in values where name.hasSuffix("running_var") && v.contains(where: { $0 < 0 }) {
            throw fail("tensor '\(name)' has a negative variance")
        }
        let weights = MicroTCNWeights(config: config, tensors: values)
        return EffectModel(name: metadata[nameKey] ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                           blueprint: weights, sampleRate: rate, knobs: knobs, info: info(metadata, config))
    }

    /// The model's rate from `sample_rate`.
    static func sampleRate(_ metadata: [String: String], path: String) throws -> Double {
        guard let rateText = metadata[sampleRateKey], let rate = Double(rateText), rate >= 8000, rate <= 384_000 else {
            throw ModelFileError(path, "metadata 'sample_rate' is missing or not a rate between 8000 and 384000")
        }
        return rate
    }

    /// The knobs from `knobs` (none when absent), checked against a network
    /// taking `conditioningSize` conditioning inputs.
    static func knobSchema(_ metadata: [String: String], conditioningSize: Int, path: String) throws -> KnobSchema {
        let knobs: KnobSchema
        if let knobText = metadata[knobsKey] {
            do {
                knobs = KnobSchema(try JSONDecoder().decode([KnobSpec].self, from: Data(knobText.utf8)),
                                   conditioningSize: conditioningSize)
            } catch { throw ModelFileError(path, "metadata 'knobs' is not a valid knob list") }
        } else {
            knobs = KnobSchema([], conditioningSize: conditioningSize)
        }
        if let problem = knobs.inconsistency(conditioningSize: conditioningSize) { throw ModelFileError(path, problem) }
        return knobs
    }

    /// The values of exactly the `expected` tensors, each present, of its
    /// shape, a float type and finite; any other tensor (unless `ignoring`
    /// it) is refused.
    static func checkedTensors(_ tensors: [String: SafetensorsTensor], expected: [(name: String, shape: [Int])], path: String,
                               ignoring: (String) -> Bool = { _ in false }) throws -> [String: [Float]] {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path, reason) }
        var values: [String: [Float]] = [:]
        for (name, shape) in expected {
            guard let t = tensors[name] else { throw fail("tensor '\(name)' is missing") }
            guard t.shape == shape else { throw fail("tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            guard t.dtype.hasPrefix("F") || t.dtype == "BF16" else { throw fail("tensor '\(name)' has dtype \(t.dtype), expected a float type") }
            guard t.values.allSatisfy(\.isFinite) else { throw fail("tensor '\(name)' contains NaN or Inf") }
            values[name] = t.values
        }
        let extras = tensors.keys.filter { values[$0] == nil && !ignoring($0) }.sorted()
        guard extras.isEmpty else {
            throw fail("unexpected tensor\(extras.count > 1 ? "s" : "") \(extras.prefix(3).joined(separator: ", ")) for this configuration")
        }
        return values
    }

    private static func gainComputerDescription(_ config: MicroTCNConfig) -> String {
        (config.hasGainFeedback ? ", feedback" : ",") + (config.hasGainCell ? " optical-cell gain computer" : " gain computer")
    }

    static func info(_ metadata: [String: String], _ config: MicroTCNConfig) -> [(key: String, value: String)] {
        let layout = "\(config.nblocks) blocks, kernel \(config.kernelSize), dilation growth \(config.dilationGrowth), "
            + "\(config.channelWidth) channels, \(config.activation.rawValue)"
            + (config.envelopes > 0 ? ", \(config.envelopes) envelopes" : "")
            + (config.hasGainComputer ? gainComputerDescription(config) : "")
        return info(metadata, architecture: "micro-tcn (\(layout))", receptiveField: config.receptiveField)
    }

    /// `--info`'s lines: description, architecture, receptive field, then the provenance's facts.
    static func info(_ metadata: [String: String], architecture: String, receptiveField: Int) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        if let d = metadata[descriptionKey] { out.append(("description", d)) }
        out.append(("architecture", architecture))
        out.append(("receptive field", "\(receptiveField) samples"))
        if let p = metadata[provenanceKey], let data = p.data(using: .utf8),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            for key in object.keys.sorted() { out.append((key, flatten(object[key]!))) }
        }
        return out
    }

    private static func flatten(_ value: Any) -> String {
        if let s = value as? String { return s }
        if JSONSerialization.isValidJSONObject(value),
           let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    /// Serializes a micro-tcn model. `provenance` is free-form JSON-able facts.
    public static func serialize(_ weights: MicroTCNWeights, name: String, description: String = "", sampleRate: Double,
                                 knobs: KnobSchema, provenance: [String: Any] = [:]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = try self.metadata(architecture: "micro-tcn",
                                         config: String(decoding: try encoder.encode(weights.config), as: UTF8.self),
                                         name: name, description: description, sampleRate: sampleRate, knobs: knobs,
                                         provenance: provenance)
        return try Safetensors.serialize(weights.namedTensors, metadata: metadata)
    }

    /// The `__metadata__` every model file carries.
    static func metadata(architecture: String, config: String, name: String, description: String, sampleRate: Double,
                         knobs: KnobSchema, provenance: [String: Any]) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata: [String: String] = [
            architectureKey: architecture,
            configKey: config,
            sampleRateKey: String(Int(sampleRate)),
            knobsKey: String(decoding: try encoder.encode(knobs.knobs), as: UTF8.self),
            nameKey: name,
        ]
        if !description.isEmpty { metadata[descriptionKey] = description }
        if !provenance.isEmpty {
            guard JSONSerialization.isValidJSONObject(provenance) else { throw ModelFileError("", "provenance is not JSON") }
            metadata[provenanceKey] = String(decoding: try JSONSerialization.data(withJSONObject: provenance, options: [.sortedKeys]),
                                             as: UTF8.self)
        }
        return metadata
    }

    /// Writes a file atomically (temporary file beside it, then rename), and
    /// clears what killed writers of the same file left behind. Refuses to
    /// replace an existing file unless `overwrite`.
    public static func save(_ weights: MicroTCNWeights, to path: String, name: String, description: String = "",
                            sampleRate: Double, knobs: KnobSchema, provenance: [String: Any] = [:],
                            overwrite: Bool = false) throws {
        let data = try serialize(weights, name: name, description: description, sampleRate: sampleRate,
                                 knobs: knobs, provenance: provenance)
        try writeAtomically(data, to: path, overwrite: overwrite)
    }

    public static func writeAtomically(_ data: Data, to path: String, overwrite: Bool) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw ModelFileError(path, "already exists (refusing to overwrite)")
        }
        AbandonedTemporaries.remove(beside: path)
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temp)
            // rename(2) replaces an existing file atomically: a reader sees
            // the old file or the new one, and a failure leaves the old one.
            guard rename(temp.path, url.path) == 0 else {
                throw ModelFileError(path, "cannot be written: \(String(cString: strerror(errno)))")
            }
        } catch let e as ModelFileError {
            try? FileManager.default.removeItem(at: temp)
            throw e
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ModelFileError(path, "cannot be written: \(error.localizedDescription)")
        }
    }
}
