import NeuralFXCore
import RealModule

/// NAM's WaveNet activations and their derivatives in the training scalar
/// (the core's `NAMActivation.apply` is Float only, for the engine). The
/// definitions are PyTorch's, as `NAMActivation` documents them; at a kink
/// the derivative takes PyTorch's one-sided choice.
extension NAMActivation {
    @inline(__always)
    func value<T: TrainingScalar>(_ x: T) -> T {
        switch self {
        case .tanh: return T.tanh(x)
        case .hardtanh: return min(max(x, -1), 1)
        case .relu: return max(x, 0)
        case .leakyReLU: return x >= 0 ? x : T(0.01) * x
        case .sigmoid: return Activation.sigmoid(x)
        case .silu: return x * Activation.sigmoid(x)
        case .hardswish: return x * min(max(x + 3, 0), 6) / 6
        }
    }

    @inline(__always)
    func derivative<T: TrainingScalar>(_ x: T) -> T {
        switch self {
        case .tanh: let y = T.tanh(x); return 1 - y * y
        case .hardtanh: return x > -1 && x < 1 ? 1 : 0
        case .relu: return x > 0 ? 1 : 0
        case .leakyReLU: return x > 0 ? 1 : T(0.01)
        case .sigmoid: let s = Activation.sigmoid(x); return s * (1 - s)
        case .silu: let s = Activation.sigmoid(x); return s + x * s * (1 - s)
        case .hardswish: return x < -3 ? 0 : x > 3 ? 1 : (2 * x + 3) / 6
        }
    }
}
