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

/// Sixteen-lane forms of the activations whose vector form is exact: each
/// lane equals the scalar definition above bit for bit, so the fast path
/// changes nothing numerically.
extension Activation {
    /// Whether `kind` has an exact sixteen-lane form here.
    @inlinable public static func hasExactVectorForm(_ kind: ActivationKind) -> Bool {
        kind == .identity || kind == .prelu || kind == .relu
    }

    @inlinable @inline(always)
    public static func prelu(_ x: SIMD16<Float>, slope: SIMD16<Float>) -> SIMD16<Float> {
        (slope * x).replacing(with: x, where: x .>= 0)
    }

    @inlinable @inline(always)
    public static func relu(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // `max(x, 0)` returns its second argument on ties, so -0 becomes +0 here too.
        x.replacing(with: 0, where: x .<= 0)
    }
}

/// Sixteen-lane approximations of the exponential-based activations, for
/// inference. Error bounds (checked by `ActivationTests.testFastFormsStayWithinTheirBounds`
/// against the scalar definitions over a dense grid of inputs):
/// - `fastTanh`: absolute error at most 2e-7, relative at most 1e-6;
/// - `fastSigmoid`: absolute error at most 2e-7;
/// well inside the 1e-5 parity the model tests demand.
extension Activation {
    /// e^x: x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to
    /// degree 7 (truncation below 6e-9 relative), times 2^n built in the
    /// exponent bits. Inputs are clamped to [-87, 88], where e^x is a normal float.
    @inlinable @inline(always)
    public static func fastExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // Masks and the round-to-nearest of float addition only: the generic
        // SIMD rounding and clamping APIs compile to calls.
        var clamped = x.replacing(with: -87, where: x .< -87)
        clamped.replace(with: 88, where: clamped .> 88)
        // Adding 1.5 * 2^23 rounds to an integer, which then sits in the low mantissa bits.
        let shifter = SIMD16<Float>(repeating: 12_582_912)
        let shifted = (clamped * 1.44269504088896341) + shifter
        let n = shifted - shifter
        // ln 2 split in two so n * ln2High is exact.
        var r = clamped.addingProduct(n, SIMD16(repeating: -0.693145751953125))
        r = r.addingProduct(n, SIMD16(repeating: -1.42860682030941723212e-6))
        var p = SIMD16<Float>(repeating: 1.0 / 5040)
        p = SIMD16(repeating: 1.0 / 720).addingProduct(p, r)
        p = SIMD16(repeating: 1.0 / 120).addingProduct(p, r)
        p = SIMD16(repeating: 1.0 / 24).addingProduct(p, r)
        p = SIMD16(repeating: 1.0 / 6).addingProduct(p, r)
        p = SIMD16(repeating: 0.5).addingProduct(p, r)
        p = SIMD16(repeating: 1).addingProduct(p, r)
        p = SIMD16(repeating: 1).addingProduct(p, r)
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(shifter, to: SIMD16<Int32>.self)
        let exponent = (integer &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: SIMD16<Float>.self)
    }

    /// tanh: an odd Taylor polynomial below |x| = 0.25 (keeps relative accuracy
    /// near zero), else 1 - 2 / (e^{2|x|} + 1) with the sign restored.
    @inlinable @inline(always)
    public static func fastTanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let a = x.replacing(with: -x, where: x .< 0)
        let large = 1 - 2 / (fastExp(2 * a) + 1)
        let x2 = x * x
        var p = SIMD16<Float>(repeating: 62.0 / 2835)
        p = SIMD16(repeating: -17.0 / 315).addingProduct(p, x2)
        p = SIMD16(repeating: 2.0 / 15).addingProduct(p, x2)
        p = SIMD16(repeating: -1.0 / 3).addingProduct(p, x2)
        let small = x.addingProduct(x * x2, p)
        let signed = large.replacing(with: -large, where: x .< 0)
        return signed.replacing(with: small, where: a .< 0.25)
    }

    @inlinable @inline(always)
    public static func fastSigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> { 1 / (1 + fastExp(-x)) }

    /// `apply` for inference: the approximations above for tanh, sigmoid, SiLU
    /// and the gated unit (channels past the last group of sixteen of a gated
    /// unit use the scalar definition), the scalar definitions for the rest.
    public static func applyFast(_ kind: ActivationKind, input: UnsafePointer<Float>,
                                 output: UnsafeMutablePointer<Float>, frames: Int, channels: Int,
                                 parameters: UnsafePointer<Float>?) {
        typealias V = SIMD16<Float>
        @inline(always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        switch kind {
        case .tanh, .sigmoid, .silu:
            // Element-wise without parameters: run over the frames as one flat array.
            // The last partial group goes through the same vector code, so each value
            // is the same function of its input wherever it falls in a block.
            @inline(always) func f(_ x: V) -> V { kind == .tanh ? fastTanh(x) : kind == .sigmoid ? fastSigmoid(x) : x * fastSigmoid(x) }
            let count = frames * channels
            var i = 0
            while i + 16 <= count {
                store(f(load(input + i)), output + i)
                i += 16
            }
            if i < count {
                var lanes = V()
                for j in i..<count { lanes[j - i] = input[j] }
                let y = f(lanes)
                for j in i..<count { output[j] = y[j - i] }
            }
        case .gated:
            for t in 0..<frames {
                let src = input + t * 2 * channels, dst = output + t * channels
                var c = 0
                while c + 16 <= channels {
                    store(fastTanh(load(src + c)) * fastSigmoid(load(src + channels + c)), dst + c)
                    c += 16
                }
                while c < channels {
                    dst[c] = gated(src[c], src[channels + c])
                    c += 1
                }
            }
        default:
            apply(kind, input: input, output: output, frames: frames, channels: channels, parameters: parameters)
        }
    }
}
