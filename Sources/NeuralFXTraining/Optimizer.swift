import RealModule

/// Adam (Kingma & Ba 2015) with PyTorch's semantics: optional L2 weight
/// decay added to the gradient, bias-corrected moments.
public struct AdamOptimizer: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    public var step = 0
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// Per-parameter multipliers of the learning rate (nil: all 1), for
    /// parameters whose useful range is far wider than one step's reach.
    public var rateScale: [Float]?

    public init(parameterCount: Int, learningRate: Float, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = firstMoment
    }

    public mutating func update(_ parameters: inout [Float], gradient: [Float]) {
        step += 1
        let c1 = 1 - Float.pow(beta1, Float(step)), c2 = 1 - Float.pow(beta2, Float(step))
        let stepSize = learningRate / c1
        let scale = rateScale ?? []
        for i in parameters.indices {
            let g = gradient[i] + weightDecay * parameters[i]
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g
            let step = scale.isEmpty ? stepSize : stepSize * scale[i]
            parameters[i] -= step * firstMoment[i] / ((secondMoment[i] / c2).squareRoot() + epsilon)
        }
    }
}

/// Scales the gradient down to at most `maxNorm` (global L2 norm); returns
/// the norm before clipping.
@discardableResult
public func clipGradient(_ gradient: inout [Float], maxNorm: Float) -> Float {
    var energy: Double = 0
    for g in gradient { energy += Double(g) * Double(g) }
    let norm = Float(energy.squareRoot())
    if maxNorm > 0 && norm > maxNorm {
        let scale = maxNorm / norm
        for i in gradient.indices { gradient[i] *= scale }
    }
    return norm
}

/// PyTorch's ReduceLROnPlateau in "min" mode with a relative threshold:
/// after `patience` validations without improvement, multiply the learning
/// rate by `factor` (not below `minimum`).
public struct PlateauScheduler: Codable, Equatable, Sendable {
    public var factor: Float = 0.5
    public var patience: Int
    public var threshold: Double = 1e-4
    public var minimum: Float = 1e-6
    public private(set) var best = Double.greatestFiniteMagnitude
    public private(set) var badValidations = 0

    public init(patience: Int, factor: Float = 0.5) {
        self.patience = patience
        self.factor = factor
    }

    /// Returns the new learning rate after a validation loss.
    public mutating func observe(_ loss: Double, learningRate: Float) -> Float {
        if loss < best * (1 - threshold) {
            best = loss
            badValidations = 0
            return learningRate
        }
        badValidations += 1
        guard badValidations > patience else { return learningRate }
        badValidations = 0
        return max(learningRate * factor, minimum)
    }

    /// Forgets the losses seen so far, for when their meaning changes.
    public mutating func forgetLosses() {
        best = .greatestFiniteMagnitude
        badValidations = 0
    }
}
