/// The convolution kernels' widest tiles: 6 frames by two vectors of
/// channels, 12 accumulators. The 4-frame tiles keep 4, which leaves most of
/// the FMA units waiting on the one before (their latency is 4 cycles and two
/// issue per cycle); 12 in flight keep them busy, and each weight vector
/// loaded serves 6 frames, each broadcast value 2 vectors. Every output still
/// sums in the same order as one frame at a time, so results are unchanged.
extension ConvolutionKernels {
    /// Whether the tiles suit `V`: 16 lanes are 24 of AVX2's 16 registers.
    /// (Counted in lanes, not bytes: the double-precision gradient checks
    /// run the same paths as training in single precision.)
    @inline(__always)
    static func hasWideTiles<V: SIMD>(_: V.Type) -> Bool {
        #if NEURALFX_VECTOR256
        return V.scalarCount <= 8
        #else
        return V.scalarCount <= 16
        #endif
    }

    /// `forward` for frames `t..<t+6` and output channels `ob..<ob+2V`.
    @inline(__always)
    static func forwardTile<T: TrainingScalar, V: SIMD>(_ x: UnsafePointer<T>, t: Int, ob: Int, inChannels cin: Int,
                                                       outChannels cout: Int, kernelSize k: Int, dilation d: Int,
                                                       weights w: UnsafePointer<T>, into z: UnsafeMutablePointer<T>,
                                                       vector _: V.Type) where V.Scalar == T {
        let n = V.scalarCount
        var a00 = V(), a01 = V(), a10 = V(), a11 = V(), a20 = V(), a21 = V(), a30 = V(), a31 = V(), a40 = V(), a41 = V(), a50 = V(), a51 = V()
        for j in 0..<k {
            let x0 = x + (t + j * d) * cin, x1 = x0 + cin, x2 = x1 + cin, x3 = x2 + cin, x4 = x3 + cin, x5 = x4 + cin
            let wj = w + j * cin * cout + ob
            for i in 0..<cin {
                let w0: V = load(wj + i * cout), w1: V = load(wj + i * cout + n)
                let b0 = V(repeating: x0[i])
                a00 = a00.addingProduct(w0, b0); a01 = a01.addingProduct(w1, b0)
                let b1 = V(repeating: x1[i])
                a10 = a10.addingProduct(w0, b1); a11 = a11.addingProduct(w1, b1)
                let b2 = V(repeating: x2[i])
                a20 = a20.addingProduct(w0, b2); a21 = a21.addingProduct(w1, b2)
                let b3 = V(repeating: x3[i])
                a30 = a30.addingProduct(w0, b3); a31 = a31.addingProduct(w1, b3)
                let b4 = V(repeating: x4[i])
                a40 = a40.addingProduct(w0, b4); a41 = a41.addingProduct(w1, b4)
                let b5 = V(repeating: x5[i])
                a50 = a50.addingProduct(w0, b5); a51 = a51.addingProduct(w1, b5)
            }
        }
        let zt = z + t * cout + ob
        store(a00, zt + 0 * cout); store(a01, zt + 0 * cout + n)
        store(a10, zt + 1 * cout); store(a11, zt + 1 * cout + n)
        store(a20, zt + 2 * cout); store(a21, zt + 2 * cout + n)
        store(a30, zt + 3 * cout); store(a31, zt + 3 * cout + n)
        store(a40, zt + 4 * cout); store(a41, zt + 4 * cout + n)
        store(a50, zt + 5 * cout); store(a51, zt + 5 * cout + n)
    }

    /// `inputGradient` for input frames `s..<s+6` (the taps `taps` reaching
    /// all of them) and input channels `ib..<ib+2V`, adding to what `dx` holds.
    @inline(__always)
    static func inputGradientTile<T: TrainingScalar, V: SIMD>(_ dz: UnsafePointer<T>, s: Int, ib: Int, inChannels cin: Int,
                                                             outChannels cout: Int, taps: ClosedRange<Int>, dilation d: Int,
                                                             transposed wt: UnsafePointer<T>, into dx: UnsafeMutablePointer<T>,
                                                             vector _: V.Type) where V.Scalar == T {
        let n = V.scalarCount, d0 = dx + s * cin + ib
        var a00: V = load(d0 + 0 * cin), a01: V = load(d0 + 0 * cin + n)
        var a10: V = load(d0 + 1 * cin), a11: V = load(d0 + 1 * cin + n)
        var a20: V = load(d0 + 2 * cin), a21: V = load(d0 + 2 * cin + n)
        var a30: V = load(d0 + 3 * cin), a31: V = load(d0 + 3 * cin + n)
        var a40: V = load(d0 + 4 * cin), a41: V = load(d0 + 4 * cin + n)
        var a50: V = load(d0 + 5 * cin), a51: V = load(d0 + 5 * cin + n)
        for j in taps {
            let g0 = dz + (s - j * d) * cout, g1 = g0 + cout, g2 = g1 + cout, g3 = g2 + cout, g4 = g3 + cout, g5 = g4 + cout
            let wtj = wt + j * cout * cin + ib
            for o in 0..<cout {
                let w0: V = load(wtj + o * cin), w1: V = load(wtj + o * cin + n)
                let b0 = V(repeating: g0[o])
                a00 = a00.addingProduct(w0, b0); a01 = a01.addingProduct(w1, b0)
                let b1 = V(repeating: g1[o])
                a10 = a10.addingProduct(w0, b1); a11 = a11.addingProduct(w1, b1)
                let b2 = V(repeating: g2[o])
                a20 = a20.addingProduct(w0, b2); a21 = a21.addingProduct(w1, b2)
                let b3 = V(repeating: g3[o])
                a30 = a30.addingProduct(w0, b3); a31 = a31.addingProduct(w1, b3)
                let b4 = V(repeating: g4[o])
                a40 = a40.addingProduct(w0, b4); a41 = a41.addingProduct(w1, b4)
                let b5 = V(repeating: g5[o])
                a50 = a50.addingProduct(w0, b5); a51 = a51.addingProduct(w1, b5)
            }
        }
        store(a00, d0 + 0 * cin); store(a01, d0 + 0 * cin + n)
        store(a10, d0 + 1 * cin); store(a11, d0 + 1 * cin + n)
        store(a20, d0 + 2 * cin); store(a21, d0 + 2 * cin + n)
        store(a30, d0 + 3 * cin); store(a31, d0 + 3 * cin + n)
        store(a40, d0 + 4 * cin); store(a41, d0 + 4 * cin + n)
        store(a50, d0 + 5 * cin); store(a51, d0 + 5 * cin + n)
    }

    /// Whether `weightGradientTile`'s 16 accumulators fit: not in AVX2's 16 registers.
    @inline(__always)
    static func hasWideWeightTiles<V: SIMD>(_: V.Type) -> Bool {
        #if NEURALFX_VECTOR256
        return false
        #else
        return V.scalarCount <= 16
        #endif
    }

    /// `weightGradient` over frames `t0..<t1` for tap `tap`, input channels
    /// `i..<i+8` and output channels `ob..<ob+2V`: 16 accumulators, each
    /// output-gradient vector loaded serving 8 channels, each input value 2
    /// vectors; every weight sums over the frames in order, as before.
    @inline(__always)
    static func weightGradientTile<T: TrainingScalar, V: SIMD>(_ x: UnsafePointer<T>, t0: Int, t1: Int, tap j: Int, i: Int, ob: Int,
                                                              inChannels cin: Int, outChannels cout: Int, dilation d: Int,
                                                              outputGradient dz: UnsafePointer<T>, into dw: UnsafeMutablePointer<T>,
                                                              vector _: V.Type) where V.Scalar == T {
        let n = V.scalarCount, base = dw + (j * cin + i) * cout + ob
        var a00: V = load(base + 0 * cout), a01: V = load(base + 0 * cout + n)
        var a10: V = load(base + 1 * cout), a11: V = load(base + 1 * cout + n)
        var a20: V = load(base + 2 * cout), a21: V = load(base + 2 * cout + n)
        var a30: V = load(base + 3 * cout), a31: V = load(base + 3 * cout + n)
        var a40: V = load(base + 4 * cout), a41: V = load(base + 4 * cout + n)
        var a50: V = load(base + 5 * cout), a51: V = load(base + 5 * cout + n)
        var a60: V = load(base + 6 * cout), a61: V = load(base + 6 * cout + n)
        var a70: V = load(base + 7 * cout), a71: V = load(base + 7 * cout + n)
        for t in t0..<t1 {
            let g0: V = load(dz + t * cout + ob), g1: V = load(dz + t * cout + ob + n)
            let xr = x + (t + j * d) * cin + i
            let b0 = V(repeating: xr[0])
            a00 = a00.addingProduct(g0, b0); a01 = a01.addingProduct(g1, b0)
            let b1 = V(repeating: xr[1])
            a10 = a10.addingProduct(g0, b1); a11 = a11.addingProduct(g1, b1)
            let b2 = V(repeating: xr[2])
            a20 = a20.addingProduct(g0, b2); a21 = a21.addingProduct(g1, b2)
            let b3 = V(repeating: xr[3])
            a30 = a30.addingProduct(g0, b3); a31 = a31.addingProduct(g1, b3)
            let b4 = V(repeating: xr[4])
            a40 = a40.addingProduct(g0, b4); a41 = a41.addingProduct(g1, b4)
            let b5 = V(repeating: xr[5])
            a50 = a50.addingProduct(g0, b5); a51 = a51.addingProduct(g1, b5)
            let b6 = V(repeating: xr[6])
            a60 = a60.addingProduct(g0, b6); a61 = a61.addingProduct(g1, b6)
            let b7 = V(repeating: xr[7])
            a70 = a70.addingProduct(g0, b7); a71 = a71.addingProduct(g1, b7)
        }
        store(a00, base + 0 * cout); store(a01, base + 0 * cout + n)
        store(a10, base + 1 * cout); store(a11, base + 1 * cout + n)
        store(a20, base + 2 * cout); store(a21, base + 2 * cout + n)
        store(a30, base + 3 * cout); store(a31, base + 3 * cout + n)
        store(a40, base + 4 * cout); store(a41, base + 4 * cout + n)
        store(a50, base + 5 * cout); store(a51, base + 5 * cout + n)
        store(a60, base + 6 * cout); store(a61, base + 6 * cout + n)
        store(a70, base + 7 * cout); store(a71, base + 7 * cout + n)
    }
}
