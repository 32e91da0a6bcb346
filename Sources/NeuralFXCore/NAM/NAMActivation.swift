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
    /// Applies the activation to one vector of lanes.
    @inline(__always)
    func apply<V: FloatLanes>(_ v: V, _ precision: NAMActivationPrecision) -> V {
        if self == .tanh && precision == .fast { return FastTanh.tanh(v) }
        return lanewise(v)
    }

    /// `act(a) * sigmoid(b)`, NAM's gated unit.
    @inline(__always)
    func gated<V: FloatLanes>(_ a: V, _ b: V, _ precision: NAMActivationPrecision) -> V {
        guard precision == .fast else { return gatedLanewise(a, b) }
        let half = V(repeating: 0.5)
        let gate = V.fma(half, half, FastTanh.tanh(V.mul(b, half)))
        return V.mul(apply(a, precision), gate)
    }

    @inline(never)
    func lanewise<V: FloatLanes>(_ v: V) -> V {
        var out = v
        for i in 0..<V.scalarCount { out[i] = apply(v[i]) }
        return out
    }

    @inline(never)
    func gatedLanewise<V: FloatLanes>(_ a: V, _ b: V) -> V {
        var out = a
        for i in 0..<V.scalarCount { out[i] = apply(a[i]) * Activation.sigmoid(b[i]) }
        return out
    }
}
