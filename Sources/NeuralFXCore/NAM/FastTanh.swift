/// A vector tanh for the real-time path: `x * P(x^2) / Q(x^2)` with
/// degree-4 polynomials in `x^2`, input clamped to ±9 (where float tanh is
/// already 1 to within 1.3e-7).
///
/// The coefficients were fitted for this project by tools/fit_fast_tanh.py
/// (iteratively reweighted least squares on [0, 9]). Evaluated in float32 on
/// [-12, 12] in steps of 1.2e-5 the largest absolute error is 3.7e-7, a few
/// units in the last place of 1; `FastTanhTests` checks `maxAbsoluteError`
/// on a dense grid and at the extremes.
public enum FastTanh {
    public static let maxAbsoluteError: Float = 5e-7

    @usableFromInline static let p0: Float = 0.9999999143033621
    @usableFromInline static let p1: Float = 0.1337836303700334
    @usableFromInline static let p2: Float = 0.0034926843893422267
    @usableFromInline static let p3: Float = 2.057095897111888e-05
    @usableFromInline static let p4: Float = 1.3319065421944805e-08
    @usableFromInline static let q1: Float = 0.46711662800671744
    @usableFromInline static let q2: Float = 0.025865278253619586
    @usableFromInline static let q3: Float = 0.00032813099086276786
    @usableFromInline static let q4: Float = 7.758389910565566e-07

    @inline(__always)
    public static func tanh<V: FloatLanes>(_ v: V) -> V {
        let x = V.clamp(v, 9)
        let s = V.mul(x, x)
        var p = V.fma(V(repeating: p3), s, V(repeating: p4))
        p = V.fma(V(repeating: p2), s, p)
        p = V.fma(V(repeating: p1), s, p)
        p = V.fma(V(repeating: p0), s, p)
        var q = V.fma(V(repeating: q3), s, V(repeating: q4))
        q = V.fma(V(repeating: q2), s, q)
        q = V.fma(V(repeating: q1), s, q)
        q = V.fma(V(repeating: 1), s, q)
        return V.div(V.mul(x, p), q)
    }

    /// Scalar form (same arithmetic, one lane), for tests and scalar paths.
    public static func tanh(_ x: Float) -> Float { tanh(SIMD4<Float>(repeating: x))[0] }
}
