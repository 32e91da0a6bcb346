import Foundation
import NeuralFXCore

/// Writes Neural Amp Modeler captures (.nam, file version 0.5.4, what NAM's
/// trainer writes): a WaveNet's configuration in NAM's key names and its
/// flat weights, `head_scale` both in the config and as the last weight.
///
/// The bytes are deterministic (keys in a fixed order, metadata keys
/// sorted) and every weight is written in the shortest decimal that reads
/// back to the same float, so write, load and write again gives the same file.
public enum NAMFileWriter {
    public static let version = "0.5.4"

    /// Metadata values must be JSON (strings, numbers, booleans, nested objects).
    public static func data(config: NAMWaveNetConfig, weights: [Float], sampleRate: Double,
                            metadata: [String: Any] = [:]) throws -> Data {
        guard weights.count == config.weightCount else {
            throw ModelFileError("", "has \(weights.count) weights but its WaveNet configuration needs \(config.weightCount)")
        }
        if let i = weights.firstIndex(where: { !$0.isFinite }) { throw ModelFileError("", "weight \(i) is not finite") }
        guard JSONSerialization.isValidJSONObject(metadata),
              let meta = try? JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]) else {
            throw ModelFileError("", "the metadata is not JSON")
        }
        let layers = config.layerArrays.map { a in
            "{\"input_size\": \(a.inputSize), \"condition_size\": \(a.conditionSize), \"head_size\": \(a.headSize), "
                + "\"channels\": \(a.channels), \"kernel_size\": \(a.kernelSize), "
                + "\"dilations\": [\(a.dilations.map(String.init).joined(separator: ", "))], "
                + "\"activation\": \"\(a.activation.rawValue)\", \"gated\": \(a.gated), \"head_bias\": \(a.headBias)}"
        }
        let head = config.head.map { h in
            "{\"in_channels\": \(config.layerArrays.last!.headSize), \"channels\": \(h.channels), "
                + "\"activation\": \"\(h.activation.rawValue)\", \"num_layers\": \(h.layers), \"out_channels\": \(h.outChannels)}"
        } ?? "null"
        var text = "{\"version\": \"\(version)\", \"metadata\": \(String(decoding: meta, as: UTF8.self)), "
        text += "\"architecture\": \"WaveNet\", \"config\": {\"layers\": [\(layers.joined(separator: ", "))], "
        text += "\"head\": \(head), \"head_scale\": \(number(weights.last!))}, "
        text += "\"weights\": [\(weights.map(number).joined(separator: ", "))], "
        text += "\"sample_rate\": \(number(sampleRate))}\n"
        return Data(text.utf8)
    }

    public static func write(config: NAMWaveNetConfig, weights: [Float], sampleRate: Double, metadata: [String: Any] = [:],
                             to path: String, overwrite: Bool) throws {
        do {
            try ModelFile.writeAtomically(try data(config: config, weights: weights, sampleRate: sampleRate, metadata: metadata),
                                          to: path, overwrite: overwrite)
        } catch let e as ModelFileError where e.path.isEmpty {
            throw ModelFileError(path, e.reason)
        }
    }

    /// Swift's shortest round-trip spelling of a finite value is JSON
    /// (`0.02`, `1e-05`, `-3.4028235e+38`), which Python's json and NAM
    /// core's reader take.
    static func number(_ v: Float) -> String { "\(v)" }
    static func number(_ v: Double) -> String { "\(v)" }
}
