import NeuralFXCore

/// Where fxhost gets models: the single place that turns `--model` text
/// (and, later, preset names) into an `EffectModel`.
public enum ModelSource {
    /// Built-in models, for running without any model file.
    public static let builtinNames = ["test", "test-b"]

    public static func resolve(_ nameOrPath: String?) throws -> EffectModel {
        switch nameOrPath ?? "test" {
        case "test": return builtin(name: "test", seed: 1)
        case "test-b": return builtin(name: "test-b", seed: 2)
        case let other:
            throw HostError.model("cannot load model '\(other)': not a built-in model (\(builtinNames.joined(separator: ", ")))")
        }
    }

    /// A small random micro-tcn with a compressor's knobs.
    static func builtin(name: String, seed: UInt64) -> EffectModel {
        EffectModel(name: name,
                    blueprint: MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: seed),
                    sampleRate: 44100,
                    knobs: KnobSchema([.continuous("peak", label: "Peak Reduction", range: 0...1, default: 0.5,
                                                   conditioningIndex: 1),
                                       .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0,
                                                   conditioningIndex: 0)]))
    }
}
