/// A vector tanh for the real-time path: `x * P(x^2) / Q(x^2)` with
/// degree-4 polynomials in `x^2`, input clamped to ±9 (where float tanh is
/// already 1 to within 1.3e-7). (A divide-free Newton reciprocal was tried:
/// it keeps the multiply-add units busier and measured slower.)
///
/// The coefficients were fitted for this project by tools/fit_fast_tanh.py
/// (iteratively reweighted least squares on [0, 9]). `FastTanhTests` checks
/// `maxAbsoluteError` on a dense grid over [-12, 12] and at the extremes.
///
/// Written for `SIMD16<Float>` only: the standard library's generic `SIMD`
/// arithmetic (and `clamped`, `pointwiseMin`) are per-lane loops, and only
/// the concrete overloads used here are single vector instructions.
public enum FastTanh {
    public static let maxAbsoluteError: Float = 5e-7

    public typealias Lanes = SIMD16<Float>

    // Transparent: plain `@inline(__always)` was not honoured here, and an
    // outlined call passes the vector in four 128-bit pieces.
    @_transparent
    public static func tanh(_ v: Lanes) -> Lanes {
        let hi = Lanes(repeating: 9), lo = Lanes(repeating: -9)
        let x = v.replacing(with: hi, where: v .> hi).replacing(with: lo, where: v .< lo)
        let s = x * x
        var p = Lanes(repeating: 2.057095897111888e-05).addingProduct(s, Lanes(repeating: 1.3319065421944805e-08))
        p = Lanes(repeating: 0.0034926843893422267).addingProduct(s, p)
        p = Lanes(repeating: 0.1337836303700334).addingProduct(s, p)
        p = Lanes(repeating: 0.9999999143033621).addingProduct(s, p)
        var q = Lanes(repeating: 0.00032813099086276786).addingProduct(s, Lanes(repeating: 7.758389910565566e-07))
        q = Lanes(repeating: 0.025865278253619586).addingProduct(s, q)
        q = Lanes(repeating: 0.46711662800671744).addingProduct(s, q)
        q = Lanes(repeating: 1).addingProduct(s, q)
        return x * p / q
    }

    /// One value through the same arithmetic.
    public static func tanh(_ x: Float) -> Float { tanh(Lanes(repeating: x))[0] }
}
