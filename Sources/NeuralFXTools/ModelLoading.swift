import NeuralFXCore
import NeuralFXModelFiles

/// The model `--model` names (a path or a catalog name; none means the
/// default model), with the file it came from.
public func loadModel(_ spec: String?, catalog: ModelCatalog) throws -> (model: EffectModel, path: String) {
    let path = try catalog.resolve(spec ?? ModelCatalog.defaultModelName, kind: .model)
    return (try ModelFile.load(path: path), path)
}
