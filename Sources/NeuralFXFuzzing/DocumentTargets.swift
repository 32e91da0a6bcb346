import Foundation
import NeuralFXDatasets
import NeuralFXTools
import NeuralFXTraining

/// The small JSON documents people write by hand or the tools write for them.
extension FuzzTarget {
    /// Presets. A preset that loads must survive its own writer: saving and
    /// reading it again gives the same preset.
    public static let preset = FuzzTarget(name: "preset") { data in
        outcome {
            let preset = try Preset(json: data, source: "fuzz")
            let again = try Preset(json: preset.json(), source: "fuzz (rewritten)")
            precondition(again == preset, "preset changed when written and read back")
        }
    }

    /// Manifests `fxtrain dataset` writes, read back by the dataset tools.
    /// One that loads must be written and read back unchanged.
    public static let datasetManifest = FuzzTarget(name: "dataset-manifest") { data in
        outcome {
            let manifest = try DatasetManifest.decode(data, path: "fuzz")
            let again = try DatasetManifest.decode(manifest.encoded(), path: "fuzz (rewritten)")
            precondition(again == manifest, "manifest changed when written and read back")
        }
    }

    /// Hand-written training manifests (fxtrain train), up to the audio reads.
    public static let nativeManifest = FuzzTarget(name: "native-manifest") { data in
        outcome {
            let contents = try NativeManifest.parse(data, path: "fuzz")
            precondition(!contents.pairs.isEmpty)
            for pair in contents.pairs { precondition(pair.knobValues.count == contents.knobNames.count) }
        }
    }
}
