/// Register-blocked kernels for the dense dilated convolution (the bulk of
/// training time). Accumulators are `lanes`-wide vectors held in registers
/// across the whole reduction and stored once, instead of one load and store
/// of the output per multiply-add. Used when channel counts divide evenly;
/// `DilatedConvolution` keeps plain loops for the rest. The finite-difference
/// tests run these same kernels in double precision.
let lanes = 16

enum ConvolutionKernels {
    typealias Vector<T: TrainingScalar> = SIMD16<T>

    @inline(__always)
    static func load<T: TrainingScalar>(_ p: UnsafePointer<T>) -> Vector<T> {
        UnsafeRawPointer(p).loadUnaligned(as: Vector<T>.self)
    }

    @inline(__always)
    static func store<T: TrainingScalar>(_ v: Vector<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector<T>.self)
    }

    /// `z[t][o] = sum_j sum_i w[j][i][o] x[t + j d][i]`, four frames at a
    /// time: four independent accumulators, so the multiply-adds do not wait
    /// on each other (each still sums in tap, then input order).
    static func forward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                           kernelSize k: Int, dilation d: Int, weights w: UnsafePointer<T>,
                                           into z: UnsafeMutablePointer<T>) {
        var t = 0
        while t + 4 <= frames {
            for ob in stride(from: 0, to: cout, by: lanes) {
                var a0 = Vector<T>(), a1 = Vector<T>(), a2 = Vector<T>(), a3 = Vector<T>()
                for j in 0..<k {
                    let x0 = x + (t + j * d) * cin, x1 = x0 + cin, x2 = x1 + cin, x3 = x2 + cin
                    let wj = w + j * cin * cout + ob
                    for i in 0..<cin {
                        let wv = load(wj + i * cout)
                        a0 = a0.addingProduct(wv, Vector<T>(repeating: x0[i]))
                        a1 = a1.addingProduct(wv, Vector<T>(repeating: x1[i]))
                        a2 = a2.addingProduct(wv, Vector<T>(repeating: x2[i]))
                        a3 = a3.addingProduct(wv, Vector<T>(repeating: x3[i]))
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
            for ob in stride(from: 0, to: cout, by: lanes) {
                var a = Vector<T>()
                for j in 0..<k {
                    let x0 = x + (t + j * d) * cin, wj = w + j * cin * cout + ob
                    for i in 0..<cin { a = a.addingProduct(load(wj + i * cout), Vector<T>(repeating: x0[i])) }
                }
                store(a, z + t * cout + ob)
            }
            t += 1
        }
    }

    /// `dw[j][i][o] += sum_t x[t + j d][i] dz[t][o]`, over tiles of frames
    /// that stay in cache, eight input channels at a time where they divide
    /// (four with 256-bit vectors, where eight would not fit in registers).
    static func weightGradient<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                  kernelSize k: Int, dilation d: Int, outputGradient dz: UnsafePointer<T>,
                                                  into dw: UnsafeMutablePointer<T>) {
        let tile = 128
        #if NEURALFX_VECTOR256
        let wide = false
        #else
        let wide = cin % 8 == 0
        #endif
        for t0 in stride(from: 0, to: frames, by: tile) {
            let t1 = min(t0 + tile, frames)
            for j in 0..<k {
                var i = 0
                while i < cin {
                    for ob in stride(from: 0, to: cout, by: lanes) {
                        let base = dw + (j * cin + i) * cout + ob
                        if wide {
                            var a0 = load(base), a1 = load(base + cout), a2 = load(base + 2 * cout), a3 = load(base + 3 * cout)
                            var a4 = load(base + 4 * cout), a5 = load(base + 5 * cout), a6 = load(base + 6 * cout)
                            var a7 = load(base + 7 * cout)
                            for t in t0..<t1 {
                                let g = load(dz + t * cout + ob)
                                let xr = x + (t + j * d) * cin + i
                                a0 = a0.addingProduct(g, Vector<T>(repeating: xr[0]))
                                a1 = a1.addingProduct(g, Vector<T>(repeating: xr[1]))
                                a2 = a2.addingProduct(g, Vector<T>(repeating: xr[2]))
                                a3 = a3.addingProduct(g, Vector<T>(repeating: xr[3]))
                                a4 = a4.addingProduct(g, Vector<T>(repeating: xr[4]))
                                a5 = a5.addingProduct(g, Vector<T>(repeating: xr[5]))
                                a6 = a6.addingProduct(g, Vector<T>(repeating: xr[6]))
                                a7 = a7.addingProduct(g, Vector<T>(repeating: xr[7]))
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
                            var a0 = load(base), a1 = load(base + cout), a2 = load(base + 2 * cout), a3 = load(base + 3 * cout)
                            for t in t0..<t1 {
                                let g = load(dz + t * cout + ob)
                                let xr = x + (t + j * d) * cin + i
                                a0 = a0.addingProduct(g, Vector<T>(repeating: xr[0]))
                                a1 = a1.addingProduct(g, Vector<T>(repeating: xr[1]))
                                a2 = a2.addingProduct(g, Vector<T>(repeating: xr[2]))
                                a3 = a3.addingProduct(g, Vector<T>(repeating: xr[3]))
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
    /// that reach input frame `s`: four frames at a time where every tap
    /// reaches all four (the sums in the same order as one at a time).
    static func inputGradient<T: TrainingScalar>(_ dz: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                 kernelSize k: Int, dilation d: Int, transposed wt: UnsafePointer<T>,
                                                 into dx: UnsafeMutablePointer<T>) {
        let inputFrames = frames + (k - 1) * d
        var s = 0
        while s < inputFrames {
            if s >= (k - 1) * d && s + 4 <= frames {
                for ib in stride(from: 0, to: cin, by: lanes) {
                    let d0 = dx + s * cin + ib
                    var a0 = load(d0), a1 = load(d0 + cin), a2 = load(d0 + 2 * cin), a3 = load(d0 + 3 * cin)
                    for j in 0..<k {
                        let g0 = dz + (s - j * d) * cout, g1 = g0 + cout, g2 = g1 + cout, g3 = g2 + cout
                        let wtj = wt + j * cout * cin + ib
                        for o in 0..<cout {
                            let wv = load(wtj + o * cin)
                            a0 = a0.addingProduct(wv, Vector<T>(repeating: g0[o]))
                            a1 = a1.addingProduct(wv, Vector<T>(repeating: g1[o]))
                            a2 = a2.addingProduct(wv, Vector<T>(repeating: g2[o]))
                            a3 = a3.addingProduct(wv, Vector<T>(repeating: g3[o]))
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
            for ib in stride(from: 0, to: cin, by: lanes) {
                var a = load(dx + s * cin + ib)
                for j in 0..<k {
                    let t = s - j * d
                    guard t >= 0 && t < frames else { continue }
                    let g = dz + t * cout, wtj = wt + j * cout * cin + ib
                    for o in 0..<cout { a = a.addingProduct(load(wtj + o * cin), Vector<T>(repeating: g[o])) }
                }
                store(a, dx + s * cin + ib)
            }
            s += 1
        }
    }
}
