/// Register-blocked kernels for the dense dilated convolution (the bulk of
/// training time). Accumulators are vectors `V` (`lanes` wide for micro-tcn;
/// WaveNet's 8-channel layers take 8-lane vectors) held in registers
/// across the whole reduction and stored once, instead of one load and store
/// of the output per multiply-add. Used when channel counts divide evenly;
/// `DilatedConvolution` keeps plain loops for the rest. The finite-difference
/// tests run these same kernels in double precision.
let lanes = 16

enum ConvolutionKernels {
    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// `z[t][o] = sum_j sum_i w[j][i][o] x[t + j d][i]`, four frames at a
    /// time: four independent accumulators, so the multiply-adds do not wait
    /// on each other (each still sums in tap, then input order).
    static func forward<T: TrainingScalar, V: SIMD>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                           kernelSize k: Int, dilation d: Int, weights w: UnsafePointer<T>,
                                           into z: UnsafeMutablePointer<T>, vector _: V.Type) where V.Scalar == T {
        var t = 0
        if hasWideTiles(V.self) && cout % (2 * V.scalarCount) == 0 {
            while t + 6 <= frames {
                for ob in stride(from: 0, to: cout, by: 2 * V.scalarCount) {
                    forwardTile(x, t: t, ob: ob, inChannels: cin, outChannels: cout, kernelSize: k, dilation: d,
                                weights: w, into: z, vector: V.self)
                }
                t += 6
            }
        }
        while t + 4 <= frames {
            for ob in stride(from: 0, to: cout, by: V.scalarCount) {
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                for j in 0..<k {
                    let x0 = x + (t + j * d) * cin, x1 = x0 + cin, x2 = x1 + cin, x3 = x2 + cin
                    let wj = w + j * cin * cout + ob
                    for i in 0..<cin {
                        let wv: V = load(wj + i * cout)
                        a0 = a0.addingProduct(wv, V(repeating: x0[i]))
                        a1 = a1.addingProduct(wv, V(repeating: x1[i]))
                        a2 = a2.addingProduct(wv, V(repeating: x2[i]))
                        a3 = a3.addingProduct(wv, V(repeating: x3[i]))
                    }
                }
                let zt = z + t * cout + ob
                store(a0, zt)
                store(a1, zt + cout)
                store(a2, zt + 2 * cout)
                store(a3, zt + 3 * cout)
            }
            t += 4
        }
        while t < frames {
            for ob in stride(from: 0, to: cout, by: V.scalarCount) {
                var a = V()
                for j in 0..<k {
                    let x0 = x + (t + j * d) * cin, wj = w + j * cin * cout + ob
                    for i in 0..<cin { a = a.addingProduct(load(wj + i * cout), V(repeating: x0[i])) }
                }
                store(a, z + t * cout + ob)
            }
            t += 1
        }
    }

    /// `dw[j][i][o] += sum_t x[t + j d][i] dz[t][o]`, over tiles of frames
    /// that stay in cache, eight input channels at a time where they divide
    /// (four with 256-bit vectors, where eight would not fit in registers).
    static func weightGradient<T: TrainingScalar, V: SIMD>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                  kernelSize k: Int, dilation d: Int, outputGradient dz: UnsafePointer<T>,
                                                  into dw: UnsafeMutablePointer<T>, vector _: V.Type) where V.Scalar == T {
        let tile = 128
        let wideTiles = hasWideWeightTiles(V.self) && cout % (2 * V.scalarCount) == 0
        #if NEURALFX_VECTOR256
        let wide = false
        #else
        let wide = cin % 8 == 0
        #endif
        for t0 in stride(from: 0, to: frames, by: tile) {
            let t1 = min(t0 + tile, frames)
            for j in 0..<k {
                var i = 0
                if wideTiles {
                    while i + 8 <= cin {
                        for ob in stride(from: 0, to: cout, by: 2 * V.scalarCount) {
                            weightGradientTile(x, t0: t0, t1: t1, tap: j, i: i, ob: ob, inChannels: cin, outChannels: cout,
                                               dilation: d, outputGradient: dz, into: dw, vector: V.self)
                        }
                        i += 8
                    }
                }
                while i < cin {
                    for ob in stride(from: 0, to: cout, by: V.scalarCount) {
                        let base = dw + (j * cin + i) * cout + ob
                        if wide {
                            var a0: V = load(base), a1: V = load(base + cout), a2: V = load(base + 2 * cout), a3: V = load(base + 3 * cout)
                            var a4: V = load(base + 4 * cout), a5: V = load(base + 5 * cout), a6: V = load(base + 6 * cout)
                            var a7: V = load(base + 7 * cout)
                            for t in t0..<t1 {
                                let g: V = load(dz + t * cout + ob)
                                let xr = x + (t + j * d) * cin + i
                                a0 = a0.addingProduct(g, V(repeating: xr[0]))
                                a1 = a1.addingProduct(g, V(repeating: xr[1]))
                                a2 = a2.addingProduct(g, V(repeating: xr[2]))
                                a3 = a3.addingProduct(g, V(repeating: xr[3]))
                                a4 = a4.addingProduct(g, V(repeating: xr[4]))
                                a5 = a5.addingProduct(g, V(repeating: xr[5]))
                                a6 = a6.addingProduct(g, V(repeating: xr[6]))
                                a7 = a7.addingProduct(g, V(repeating: xr[7]))
                            }
                            store(a0, base)
                            store(a1, base + cout)
                            store(a2, base + 2 * cout)
                            store(a3, base + 3 * cout)
                            store(a4, base + 4 * cout)
                            store(a5, base + 5 * cout)
                            store(a6, base + 6 * cout)
                            store(a7, base + 7 * cout)
                        } else {
                            var a0: V = load(base), a1: V = load(base + cout), a2: V = load(base + 2 * cout), a3: V = load(base + 3 * cout)
                            for t in t0..<t1 {
                                let g: V = load(dz + t * cout + ob)
                                let xr = x + (t + j * d) * cin + i
                                a0 = a0.addingProduct(g, V(repeating: xr[0]))
                                a1 = a1.addingProduct(g, V(repeating: xr[1]))
                                a2 = a2.addingProduct(g, V(repeating: xr[2]))
                                a3 = a3.addingProduct(g, V(repeating: xr[3]))
                            }
                            store(a0, base)
                            store(a1, base + cout)
                            store(a2, base + 2 * cout)
                            store(a3, base + 3 * cout)
                        }
                    }
                    i += wide ? 8 : 4
                }
            }
        }
    }

    /// `dx[s][i] += sum_j sum_o wt[j][o][i] dz[s - j d][o]` over the taps
    /// that reach input frame `s`, in tap order. Runs of frames that the
    /// same taps reach go 6 or 4 frames at a time (near the ends, where
    /// fewer taps reach, as in the middle: at long dilations the ends are
    /// most of the frames), the sums in the same order as one at a time.
    static func inputGradient<T: TrainingScalar, V: SIMD>(_ dz: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                 kernelSize k: Int, dilation d: Int, transposed wt: UnsafePointer<T>,
                                                 into dx: UnsafeMutablePointer<T>, vector _: V.Type) where V.Scalar == T {
        let inputFrames = frames + (k - 1) * d
        let wide = hasWideTiles(V.self) && cin % (2 * V.scalarCount) == 0
        // The taps reaching input frame s: s - j d must be an output frame.
        func taps(_ s: Int) -> ClosedRange<Int>? {
            let first = s < frames ? 0 : (s - frames + d) / d, last = min(k - 1, s / d)
            return first <= last ? first...last : nil
        }
        var s = 0
        while s < inputFrames {
            guard let reach = taps(s) else { s += 1; continue }
            if wide && s + 6 <= inputFrames && taps(s + 5) == reach {
                for ib in stride(from: 0, to: cin, by: 2 * V.scalarCount) {
                    inputGradientTile(dz, s: s, ib: ib, inChannels: cin, outChannels: cout, taps: reach, dilation: d,
                                      transposed: wt, into: dx, vector: V.self)
                }
                s += 6
                continue
            }
            if s + 4 <= inputFrames && taps(s + 3) == reach {
                for ib in stride(from: 0, to: cin, by: V.scalarCount) {
                    let d0 = dx + s * cin + ib
                    var a0: V = load(d0), a1: V = load(d0 + cin), a2: V = load(d0 + 2 * cin), a3: V = load(d0 + 3 * cin)
                    for j in reach {
                        let g0 = dz + (s - j * d) * cout, g1 = g0 + cout, g2 = g1 + cout, g3 = g2 + cout
                        let wtj = wt + j * cout * cin + ib
                        for o in 0..<cout {
                            let wv: V = load(wtj + o * cin)
                            a0 = a0.addingProduct(wv, V(repeating: g0[o]))
                            a1 = a1.addingProduct(wv, V(repeating: g1[o]))
                            a2 = a2.addingProduct(wv, V(repeating: g2[o]))
                            a3 = a3.addingProduct(wv, V(repeating: g3[o]))
                        }
                    }
                    store(a0, d0)
                    store(a1, d0 + cin)
                    store(a2, d0 + 2 * cin)
                    store(a3, d0 + 3 * cin)
                }
                s += 4
                continue
            }
            for ib in stride(from: 0, to: cin, by: V.scalarCount) {
                var a: V = load(dx + s * cin + ib)
                for j in reach {
                    let g = dz + (s - j * d) * cout, wtj = wt + j * cout * cin + ib
                    for o in 0..<cout { a = a.addingProduct(load(wtj + o * cin), V(repeating: g[o])) }
                }
                store(a, dx + s * cin + ib)
            }
            s += 1
        }
    }
}
