import NeuralFXCore

/// Where each trainable micro-tcn tensor lives in one flat parameter vector.
///
/// The optimizer, gradient reduction and checkpoints work on flat vectors;
/// the layers find their tensors here by micro-tcn's state_dict names. The
/// BatchNorm running statistics are not trained and are kept apart.
public struct ParameterLayout: Sendable {
    public let config: MicroTCNConfig
    public private(set) var names: [String] = []
    public private(set) var shapes: [[Int]] = []
    public private(set) var offsets: [String: Int] = [:]
    public private(set) var count = 0

    public init(_ config: MicroTCNConfig) {
        self.config = config
        for (name, shape) in MicroTCNWeights.expectedShapes(config) where !ParameterLayout.isStatistic(name) {
            names.append(name)
            shapes.append(shape)
            offsets[name] = count
            count += shape.reduce(1, *)
        }
    }

    public static func isStatistic(_ name: String) -> Bool {
        name.hasSuffix("running_mean") || name.hasSuffix("running_var")
    }

    public func offset(_ name: String) -> Int { offsets[name]! }
    public func offsetIfPresent(_ name: String) -> Int? { offsets[name] }

    /// The flat trainable vector and the per-block running statistics of `weights`.
    public func flatten<T: TrainingScalar>(_ weights: MicroTCNWeights, as _: T.Type = T.self)
        -> (parameters: [T], runningMean: [[T]], runningVariance: [[T]]) {
        var flat = [T](repeating: 0, count: count)
        for (name, _, values) in weights.namedTensors where !ParameterLayout.isStatistic(name) {
            let o = offset(name)
            for (i, v) in values.enumerated() { flat[o + i] = T(v) }
        }
        let mean = weights.blocks.map { $0.runningMean.map { T($0) } }
        let variance = weights.blocks.map { $0.runningVariance.map { T($0) } }
        return (flat, mean, variance)
    }

    /// The model description for a flat vector and running statistics.
    public func weights<T: TrainingScalar>(parameters: [T], runningMean: [[T]], runningVariance: [[T]]) -> MicroTCNWeights {
        var tensors: [String: [Float]] = [:]
        for (i, name) in names.enumerated() {
            let o = offset(name), n = shapes[i].reduce(1, *)
            tensors[name] = (0..<n).map { Float(parameters[o + $0]) }
        }
        let bnPrefix = config.nparams > 0 ? "film.bn." : "bn."
        for n in 0..<config.nblocks {
            tensors["blocks.\(n).\(bnPrefix)running_mean"] = runningMean[n].map { Float($0) }
            tensors["blocks.\(n).\(bnPrefix)running_var"] = runningVariance[n].map { Float($0) }
        }
        return MicroTCNWeights(config: config, tensors: tensors)
    }
}
