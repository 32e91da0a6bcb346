import Foundation
import NeuralFXCore

/// The safetensors form of a knob-conditioned Neural Amp Modeler WaveNet
/// (`architecture` `nam-wavenet`), for what a .nam file cannot say: knobs.
/// NAM's condition is the audio sample; here it is the audio followed by one
/// value per conditioning input of the `knobs` schema (`condition_size` =
/// 1 + the schema's conditioning size), each layer's input mixer taking them
/// all. The metadata is every model file's (`ModelFile`); `config` is NAM's
/// WaveNet configuration, `{"layers": [...]}` with NAM's keys per layer
/// array. The weights are NAM's flat list cut into PyTorch-like tensors, in
/// PyTorch's `[out, in, kernel]` layout, which is also the flat list's:
///
/// - `layer_arrays.{i}.rechannel.weight` `[channels, input_size, 1]`
/// - `layer_arrays.{i}.layers.{j}.conv.weight` `[conv, channels, kernel_size]`
///   and `.conv.bias` `[conv]` (conv = 2 x channels when gated)
/// - `layer_arrays.{i}.layers.{j}.input_mixer.weight` `[conv, condition_size, 1]`
///   (column 0 the audio, then the knobs)
/// - `layer_arrays.{i}.layers.{j}.1x1.weight` `[channels, channels, 1]` and `.1x1.bias` `[channels]`
/// - `layer_arrays.{i}.head_rechannel.weight` `[head_size, channels, 1]`, and
///   `.head_rechannel.bias` `[head_size]` when `head_bias`
/// - `head_scale` `[1]`: the output multiplier
///
/// A post-head (NAM's optional `head`) is not part of this form.
public enum WaveNetModelFile {
    public static let architecture = "nam-wavenet"

    /// The configuration as `config` stores it.
    struct Config: Codable {
        struct LayerArray: Codable {
            var inputSize: Int
            var conditionSize: Int
            var headSize: Int
            var channels: Int
            var kernelSize: Int
            var dilations: [Int]
            var activation: String
            var gated: Bool
            var headBias: Bool

            enum CodingKeys: String, CodingKey {
                case inputSize = "input_size", conditionSize = "condition_size", headSize = "head_size", channels
                case kernelSize = "kernel_size", dilations, activation, gated, headBias = "head_bias"
            }
        }

        var layers: [LayerArray]
    }

    /// Every tensor of `config`'s weights with its shape and its range in
    /// NAM's flat list, in that list's order.
    public static func tensorLayout(_ config: NAMWaveNetConfig) -> [(name: String, shape: [Int], range: Range<Int>)] {
        var out: [(name: String, shape: [Int], range: Range<Int>)] = []
        var cursor = 0
        func add(_ name: String, _ shape: [Int]) {
            let count = shape.reduce(1, *)
            out.append((name, shape, cursor..<(cursor + count)))
            cursor += count
        }
        for (i, a) in config.layerArrays.enumerated() {
            let prefix = "layer_arrays.\(i)."
            add(prefix + "rechannel.weight", [a.channels, a.inputSize, 1])
            for j in a.dilations.indices {
                let layer = prefix + "layers.\(j)."
                add(layer + "conv.weight", [a.convChannels, a.channels, a.kernelSize])
                add(layer + "conv.bias", [a.convChannels])
                add(layer + "input_mixer.weight", [a.convChannels, a.conditionSize, 1])
                add(layer + "1x1.weight", [a.channels, a.channels, 1])
                add(layer + "1x1.bias", [a.channels])
            }
            add(prefix + "head_rechannel.weight", [a.headSize, a.channels, 1])
            if a.headBias { add(prefix + "head_rechannel.bias", [a.headSize]) }
        }
        add("head_scale", [1])
        return out
    }

    /// Serializes a WaveNet (`weights` in NAM's flat order, `head_scale` last)
    /// with its knobs; `knobs.conditioningSize` must be `config`'s knob count.
    public static func serialize(config: NAMWaveNetConfig, weights: [Float], name: String, description: String = "",
                                 sampleRate: Double, knobs: KnobSchema, provenance: [String: Any] = [:]) throws -> Data {
        if let problem = config.inconsistency { throw ModelFileError("", problem) }
        guard config.head == nil else { throw ModelFileError("", "a WaveNet with a post-head has no safetensors form") }
        guard weights.count == config.weightCount else {
            throw ModelFileError("", "has \(weights.count) weights but its WaveNet configuration needs \(config.weightCount)")
        }
        if let i = weights.firstIndex(where: { !$0.isFinite }) { throw ModelFileError("", "weight \(i) is not finite") }
        if let problem = knobs.inconsistency(conditioningSize: config.knobCount) { throw ModelFileError("", problem) }
        let fileConfig = Config(layers: config.layerArrays.map {
            .init(inputSize: $0.inputSize, conditionSize: $0.conditionSize, headSize: $0.headSize, channels: $0.channels,
                  kernelSize: $0.kernelSize, dilations: $0.dilations, activation: $0.activation.rawValue, gated: $0.gated,
                  headBias: $0.headBias)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = try ModelFile.metadata(architecture: architecture,
                                              config: String(decoding: try encoder.encode(fileConfig), as: UTF8.self),
                                              name: name, description: description, sampleRate: sampleRate, knobs: knobs,
                                              provenance: provenance)
        let tensors = tensorLayout(config).map { (name: $0.name, shape: $0.shape, values: Array(weights[$0.range])) }
        return try Safetensors.serialize(tensors, metadata: metadata)
    }

    /// Writes atomically (see `ModelFile.writeAtomically`).
    public static func save(config: NAMWaveNetConfig, weights: [Float], to path: String, name: String, description: String = "",
                            sampleRate: Double, knobs: KnobSchema, provenance: [String: Any] = [:], overwrite: Bool = false) throws {
        do {
            let data = try serialize(config: config, weights: weights, name: name, description: description,
                                     sampleRate: sampleRate, knobs: knobs, provenance: provenance)
            try ModelFile.writeAtomically(data, to: path, overwrite: overwrite)
        } catch let e as ModelFileError where e.path.isEmpty {
            throw ModelFileError(path, e.reason)
        }
    }

    /// Builds the model from a parsed file whose `architecture` is this form's.
    static func load(tensors: [String: SafetensorsTensor], metadata: [String: String], path: String) throws -> EffectModel {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path, reason) }
        guard let configText = metadata[ModelFile.configKey] else { throw fail("has no 'config' in its metadata") }
        let fileConfig: Config
        do { fileConfig = try JSONDecoder().decode(Config.self, from: Data(configText.utf8)) } catch {
            throw fail("metadata 'config' is not a valid WaveNet configuration (layers of input_size, condition_size, head_size, "
                       + "channels, kernel_size, dilations, activation, gated, head_bias)")
        }
        guard !fileConfig.layers.isEmpty, fileConfig.layers.count <= 16 else {
            throw fail("WaveNet config has \(fileConfig.layers.count) layer arrays (1 to 16 are supported)")
        }
        var arrays: [NAMWaveNetLayerArrayConfig] = []
        for (i, l) in fileConfig.layers.enumerated() {
            guard let activation = NAMActivation(rawValue: l.activation) else {
                throw fail("layer array \(i) has activation '\(l.activation)' (supported: "
                           + NAMActivation.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            // Bounded before any size is multiplied, so no product overflows.
            let sizes = [l.inputSize, l.conditionSize, l.headSize, l.channels, l.kernelSize]
            guard sizes.allSatisfy({ (1...256).contains($0) }), l.dilations.count <= 256,
                  l.dilations.allSatisfy({ (1...65536).contains($0) }) else {
                throw fail("layer array \(i) has a size outside 1...256 or a dilation outside 1...65536")
            }
            arrays.append(NAMWaveNetLayerArrayConfig(inputSize: l.inputSize, conditionSize: l.conditionSize, headSize: l.headSize,
                                                     channels: l.channels, kernelSize: l.kernelSize, dilations: l.dilations,
                                                     activation: activation, gated: l.gated, headBias: l.headBias))
        }
        let config = NAMWaveNetConfig(layerArrays: arrays, head: nil)
        if let problem = config.inconsistency { throw fail(problem) }
        let rate = try ModelFile.sampleRate(metadata, path: path)
        let knobs = try ModelFile.knobSchema(metadata, conditioningSize: config.knobCount, path: path)
        let layout = tensorLayout(config)
        let values = try ModelFile.checkedTensors(tensors, expected: layout.map { ($0.name, $0.shape) }, path: path)
        var weights = [Float](repeating: 0, count: config.weightCount)
        for t in layout { weights.replaceSubrange(t.range, with: values[t.name]!) }
        let shape = config.layerArrays.map { "\($0.channels)ch x \($0.dilations.count)\($0.gated ? " gated" : "")" }
        let description = "nam-wavenet (\(shape.joined(separator: ", ")), \(config.knobCount) knob input\(config.knobCount == 1 ? "" : "s"))"
        return EffectModel(name: metadata[ModelFile.nameKey] ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                           blueprint: NAMWaveNetBlueprint(config: config, weights: weights), sampleRate: rate, knobs: knobs,
                           info: ModelFile.info(metadata, architecture: description, receptiveField: config.receptiveField))
    }
}
