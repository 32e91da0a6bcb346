import NeuralFXCore
import NeuralFXTools

/// Where fxhost gets what it plays: the one place that turns `--model` and
/// `--preset` text (names on the catalog's search path, or files) into a
/// model and its settings.
public enum ModelSource {
    /// The model `spec` names; nil means the bundled default.
    public static func model(_ spec: String?) throws -> EffectModel {
        do {
            return try loadModel(spec, catalog: .standard()).model
        } catch {
            throw HostError.model("cannot load model '\(spec ?? ModelCatalog.defaultModelName)': \(error)")
        }
    }

    public static func preset(_ spec: String) throws -> (preset: Preset, path: String) {
        do {
            let path = try ModelCatalog.standard().resolve(spec, kind: .preset)
            return (try Preset.load(path: path), path)
        } catch {
            throw HostError.model("cannot load preset '\(spec)': \(error)")
        }
    }

    /// The model to play and its settings: a preset's model unless `model`
    /// is given (else the default), the model's defaults, then the preset's
    /// knobs and gains, then `knobs` (`name=value`, later ones win).
    public static func configuration(model spec: String?, preset presetSpec: String?,
                                     knobs: [String]) throws -> (model: EffectModel, settings: EffectSettings) {
        let preset = try presetSpec.map(preset)
        let model = try model(spec ?? preset?.preset.model)
        var settings = EffectSettings(knobs: model.knobs)
        do {
            if let preset { try settings.apply(preset.preset, source: preset.path) }
            try settings.apply(arguments: knobs)
        } catch let e as KnobError {
            throw HostError.badArgument(e.description)
        } catch {
            throw HostError.badArgument("\(error)")
        }
        return (model, settings)
    }
}
