import NeuralFXCore

/// The model `--model` names (a path or a catalog name; none means the
/// default model), with the file it came from.
public func loadModel(_ spec: String?, catalog: ModelCatalog) throws -> (model: EffectModel, path: String) {
    let path = try catalog.resolve(spec ?? ModelCatalog.defaultModelName, kind: .model)
    return (try readModelFile(path), path)
}

/// The one place model files are read.
func readModelFile(_ path: String) throws -> EffectModel {
    // Until NeuralFXModelFiles is merged (ModelFile.load(path:)), no file can be read.
    throw CatalogError.noSuchFile(kind: .model, path: path + " (model files cannot be read by this build yet)")
}
