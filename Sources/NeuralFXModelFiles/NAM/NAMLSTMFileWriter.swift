import Foundation
import NeuralFXCore

extension NAMFileWriter {
    /// A .nam file of NAM's LSTM (`layers` of `hiddenSize` cells over mono
    /// audio): the configuration in NAM's key names and the flat weights in
    /// the order NAM exports them and `NAMModelFile` reads them (per layer
    /// the gate matrix, bias, initial hidden and cell states; then the
    /// head). Deterministic bytes, as for a WaveNet.
    public static func data(lstmLayers layers: Int, hiddenSize: Int, weights: [Float], sampleRate: Double,
                            metadata: [String: Any] = [:]) throws -> Data {
        let expected = NAMLSTMBlueprint.weightCount(layers: layers, inputSize: 1, hiddenSize: hiddenSize)
        guard weights.count == expected else {
            throw ModelFileError("", "has \(weights.count) weights but its LSTM configuration needs \(expected)")
        }
        if let i = weights.firstIndex(where: { !$0.isFinite }) { throw ModelFileError("", "weight \(i) is not finite") }
        guard JSONSerialization.isValidJSONObject(metadata),
              let meta = try? JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys]) else {
            throw ModelFileError("", "the metadata is not JSON")
        }
        var text = "{\"version\": \"\(version)\", \"metadata\": \(String(decoding: meta, as: UTF8.self)), "
        text += "\"architecture\": \"LSTM\", \"config\": {\"input_size\": 1, \"hidden_size\": \(hiddenSize), \"num_layers\": \(layers)}, "
        text += "\"weights\": [\(weights.map(number).joined(separator: ", "))], "
        text += "\"sample_rate\": \(number(sampleRate))}\n"
        return Data(text.utf8)
    }

    public static func write(lstmLayers layers: Int, hiddenSize: Int, weights: [Float], sampleRate: Double,
                             metadata: [String: Any] = [:], to path: String, overwrite: Bool) throws {
        do {
            try ModelFile.writeAtomically(try data(lstmLayers: layers, hiddenSize: hiddenSize, weights: weights,
                                                   sampleRate: sampleRate, metadata: metadata),
                                          to: path, overwrite: overwrite)
        } catch let e as ModelFileError where e.path.isEmpty {
            throw ModelFileError(path, e.reason)
        }
    }
}
