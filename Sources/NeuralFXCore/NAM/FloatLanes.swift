/// Float vectors the NAM kernels are written over.
///
/// The standard library's generic `SIMD` arithmetic is a per-lane loop; only
/// the concrete types' overloads are single vector instructions. Each
/// conformance below names those concrete overloads, so kernels written once
/// over `FloatLanes` compile to fused vector code for every width. (`clamped`
/// and `pointwiseMin` are generic lane loops too; masked `replacing` is not.)
public protocol FloatLanes: SIMD where Scalar == Float {
    static func fma(_ acc: Self, _ a: Self, _ b: Self) -> Self
    static func add(_ a: Self, _ b: Self) -> Self
    static func mul(_ a: Self, _ b: Self) -> Self
    static func div(_ a: Self, _ b: Self) -> Self
    static func clamp(_ a: Self, _ bound: Float) -> Self
}

extension FloatLanes {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
    }
}

extension SIMD4: FloatLanes where Scalar == Float {
    @inline(__always) public static func fma(_ acc: Self, _ a: Self, _ b: Self) -> Self { acc.addingProduct(a, b) }
    @inline(__always) public static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) public static func mul(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) public static func div(_ a: Self, _ b: Self) -> Self { a / b }
    @inline(__always) public static func clamp(_ a: Self, _ bound: Float) -> Self {
        let hi = Self(repeating: bound), lo = Self(repeating: -bound)
        return a.replacing(with: hi, where: a .> hi).replacing(with: lo, where: a .< lo)
    }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inline(__always) public static func fma(_ acc: Self, _ a: Self, _ b: Self) -> Self { acc.addingProduct(a, b) }
    @inline(__always) public static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) public static func mul(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) public static func div(_ a: Self, _ b: Self) -> Self { a / b }
    @inline(__always) public static func clamp(_ a: Self, _ bound: Float) -> Self {
        let hi = Self(repeating: bound), lo = Self(repeating: -bound)
        return a.replacing(with: hi, where: a .> hi).replacing(with: lo, where: a .< lo)
    }
}

extension SIMD16: FloatLanes where Scalar == Float {
    @inline(__always) public static func fma(_ acc: Self, _ a: Self, _ b: Self) -> Self { acc.addingProduct(a, b) }
    @inline(__always) public static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) public static func mul(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) public static func div(_ a: Self, _ b: Self) -> Self { a / b }
    @inline(__always) public static func clamp(_ a: Self, _ bound: Float) -> Self {
        let hi = Self(repeating: bound), lo = Self(repeating: -bound)
        return a.replacing(with: hi, where: a .> hi).replacing(with: lo, where: a .< lo)
    }
}
