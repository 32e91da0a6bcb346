import NeuralFXCore
import RealModule

/// Forward and backward of a block activation over time-major frames. The
/// forward values come from the core's `Activation`, so training and
/// inference compute the same function.
enum ActivationLayer {
    /// `output` has `channels` per frame; `.gated` reads `2 * channels` from `input`.
    static func forward<T: TrainingScalar>(_ kind: ActivationKind, input u: UnsafePointer<T>, frames: Int, channels: Int,
                                           parameters p: UnsafePointer<T>?, into a: UnsafeMutablePointer<T>) {
        if kind == .gated {
            for t in 0..<frames {
                let src = u + t * 2 * channels, dst = a + t * channels
                for c in 0..<channels { dst[c] = Activation.gated(src[c], src[channels + c]) }
            }
            return
        }
        precondition(kind != .prelu, "PReLU blocks run in PReLUBlockTail")
        for t in 0..<frames {
            let src = u + t * channels, dst = a + t * channels
            for c in 0..<channels { dst[c] = Activation.apply(kind, src[c], parameter: p?[c] ?? 0) }
        }
    }

    /// Replaces `gradient` (the output gradient, `channels` per frame) by the
    /// input gradient in `inputGradient` and accumulates parameter gradients.
    static func backward<T: TrainingScalar>(_ kind: ActivationKind, input u: UnsafePointer<T>, frames: Int, channels: Int,
                                            parameters p: UnsafePointer<T>?, outputGradient g: UnsafePointer<T>,
                                            inputGradient du: UnsafeMutablePointer<T>,
                                            parameterGradient dp: UnsafeMutablePointer<T>?) {
        let inputWidth = channels * kind.inputChannelsPerOutput
        for t in 0..<frames {
            let src = u + t * inputWidth, grow = g + t * channels, dst = du + t * inputWidth
            switch kind {
            case .gated:
                for c in 0..<channels {
                    let th = T.tanh(src[c]), s = Activation.sigmoid(src[channels + c])
                    dst[c] = grow[c] * (1 - th * th) * s
                    dst[channels + c] = grow[c] * th * s * (1 - s)
                }
            case .prelu:
                preconditionFailure("PReLU blocks run in PReLUBlockTail")
            case .snake:
                for c in 0..<channels {
                    let x = src[c], a = p![c]
                    let s = T.sin(a * x), co = T.cos(a * x)
                    dst[c] = grow[c] * (1 + 2 * s * co)
                    dp![c] += grow[c] * (2 * s * co * x / a - s * s / (a * a))
                }
            default:
                for c in 0..<channels { dst[c] = grow[c] * derivative(kind, src[c]) }
            }
        }
    }

    @inline(__always)
    static func derivative<T: TrainingScalar>(_ kind: ActivationKind, _ x: T) -> T {
        switch kind {
        case .identity: return 1
        case .relu: return x > 0 ? 1 : 0
        case .tanh: let y = T.tanh(x); return 1 - y * y
        case .sigmoid: let s = Activation.sigmoid(x); return s * (1 - s)
        case .silu: let s = Activation.sigmoid(x); return s + x * s * (1 - s)
        case .gelu:
            // Phi(x) + x phi(x)
            return 0.5 * (1 + T.erf(x * 0.70710678118654752)) + x * T.exp(-x * x / 2) * 0.3989422804014327
        case .prelu, .snake, .gated: preconditionFailure("handled with their parameters")
        }
    }
}
