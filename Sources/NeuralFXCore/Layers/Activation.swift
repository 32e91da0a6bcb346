import RealModule

/// The element-wise nonlinearities a block may use.
///
/// Parameterized ones carry one parameter per channel (PReLU's negative slope,
/// Snake's frequency `a`). The gated unit halves the channel count: it reads
/// `2C` channels and writes `tanh(first half) * sigmoid(second half)`.
public enum ActivationKind: String, Codable, CaseIterable, Sendable {
    case identity, prelu, relu, tanh, sigmoid, silu, gelu, snake, gated

    /// Whether the activation has one learnable parameter per channel.
    public var hasChannelParameters: Bool { self == .prelu || self == .snake }

    /// Channels the activation reads for each channel it writes.
    public var inputChannelsPerOutput: Int { self == .gated ? 2 : 1 }
}

/// Scalar definitions, shared by inference and training so the two can never
/// disagree. `parameter` is the per-channel slope (PReLU) or frequency (Snake).
public enum Activation {
    // Generic over the scalar so the trainer's double-precision gradient
    // checks run the very same definitions.
    @inlinable public static func sigmoid<T: Real>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

    @inlinable public static func gelu<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        0.5 * x * (1 + T.erf(x * 0.70710678118654752))
    }

    @inlinable public static func snake<T: Real>(_ x: T, _ a: T) -> T {
        let s = T.sin(a * x)
        return x + s * s / a
    }

    @inlinable public static func apply<T: Real & BinaryFloatingPoint>(_ kind: ActivationKind, _ x: T, parameter: T) -> T {
        switch kind {
        case .identity: return x
        case .prelu: return x >= 0 ? x : parameter * x
        case .relu: return max(x, 0)
        case .tanh: return T.tanh(x)
        case .sigmoid: return sigmoid(x)
        case .silu: return x * sigmoid(x)
        case .gelu: return gelu(x)
        case .snake: return snake(x, parameter)
        case .gated: preconditionFailure("the gated unit combines two channels; use applyGated")
        }
    }

    @inlinable public static func gated<T: Real>(_ a: T, _ b: T) -> T { T.tanh(a) * sigmoid(b) }

    /// Applies `kind` in place to `frames` time-major frames of `channels`
    /// channels. For `.gated`, reads `2 * channels` per frame from `input`.
    @inlinable
    public static func apply(_ kind: ActivationKind,
                             input: UnsafePointer<Float>,
                             output: UnsafeMutablePointer<Float>,
                             frames: Int, channels: Int,
                             parameters: UnsafePointer<Float>?) {
        switch kind {
        case .gated:
            for t in 0..<frames {
                let src = input + t * 2 * channels
                let dst = output + t * channels
                for c in 0..<channels { dst[c] = gated(src[c], src[channels + c]) }
            }
        case .prelu:
            let slope = parameters!
            for t in 0..<frames {
                let src = input + t * channels
                let dst = output + t * channels
                for c in 0..<channels {
                    let x = src[c]
                    dst[c] = x >= 0 ? x : slope[c] * x
                }
            }
        case .relu:
            for i in 0..<(frames * channels) { output[i] = max(input[i], 0) }
        default:
            for t in 0..<frames {
                let src = input + t * channels
                let dst = output + t * channels
                for c in 0..<channels { dst[c] = apply(kind, src[c], parameter: parameters?[c] ?? 0) }
            }
        }
    }
}
