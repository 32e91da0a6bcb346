import RealModule

/// The activations Neural Amp Modeler's WaveNet layers may name (PyTorch
/// module names, as they appear in .nam files). `LeakyReLU` has PyTorch's
/// default slope 0.01 and `Hardtanh` its default range [-1, 1], the only forms
/// a 0.5.x file can express.
public enum NAMActivation: String, CaseIterable, Sendable {
    case tanh = "Tanh"
    case hardtanh = "Hardtanh"
    case relu = "ReLU"
    case leakyReLU = "LeakyReLU"
    case sigmoid = "Sigmoid"
    case silu = "SiLU"
    case hardswish = "Hardswish"

    /// Exact scalar definition (libm tanh and exp).
    @inlinable public func apply(_ x: Float) -> Float {
        switch self {
        case .tanh: return Float.tanh(x)
        case .hardtanh: return min(max(x, -1), 1)
        case .relu: return max(x, 0)
        case .leakyReLU: return x >= 0 ? x : 0.01 * x
        case .sigmoid: return Activation.sigmoid(x)
        case .silu: return x * Activation.sigmoid(x)
        case .hardswish: return x * min(max(x + 3, 0), 6) / 6
        }
    }
}

/// How the WaveNet evaluates tanh and the gate's sigmoid.
public enum NAMActivationPrecision: String, Sendable {
    /// libm: matches the reference implementation to float rounding.
    case exact
    /// `FastTanh` (absolute error below `FastTanh.maxAbsoluteError`), with the
    /// sigmoid as `(1 + tanh(x / 2)) / 2`.
    case fast
}

extension NAMActivation {
    typealias Lanes = SIMD16<Float>

    /// Applies the activation to 16 values. (Transparent, as in `FastTanh`:
    /// outlined, the vector would travel in four 128-bit pieces.)
    @_transparent
    func apply(_ v: Lanes, _ precision: NAMActivationPrecision) -> Lanes {
        if self == .tanh && precision == .fast { return FastTanh.tanh(v) }
        return lanewise(v)
    }

    /// `act(a) * sigmoid(b)`, NAM's gated unit, on 16 pairs.
    @_transparent
    func gated(_ a: Lanes, _ b: Lanes, _ precision: NAMActivationPrecision) -> Lanes {
        guard precision == .fast else { return gatedLanewise(a, b) }
        let half = Lanes(repeating: 0.5)
        return apply(a, precision) * half.addingProduct(half, FastTanh.tanh(b * half))
    }

    @inline(never)
    func lanewise(_ v: Lanes) -> Lanes {
        var out = v
        for i in 0..<Lanes.scalarCount { out[i] = apply(v[i]) }
        return out
    }

    @inline(never)
    func gatedLanewise(_ a: Lanes, _ b: Lanes) -> Lanes {
        var out = a
        for i in 0..<Lanes.scalarCount { out[i] = apply(a[i]) * Activation.sigmoid(b[i]) }
        return out
    }
}
