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

    /// `z[t][o] = sum_j sum_i w[j][i][o] x[t + j d][i]`, two frames at a time.
    static func forward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                           kernelSize k: Int, dilation d: Int, weights w: UnsafePointer<T>,
                                           into z: UnsafeMutablePointer<T>) {
        var t = 0
        while t < frames {
            let pair = t + 1 < frames
            for ob in stride(from: 0, to: cout, by: lanes) {
                var a0 = Vector<T>(), a1 = Vector<T>()
                for j in 0..<k {
                    let x0 = x + (t + j * d) * cin, x1 = x0 + cin
                    let wj = w + j * cin * cout + ob
                    if pair {
                        for i in 0..<cin {
                            let wv = load(wj + i * cout)
                            a0 = a0.addingProduct(wv, Vector<T>(repeating: x0[i]))
                            a1 = a1.addingProduct(wv, Vector<T>(repeating: x1[i]))
                        }
                    } else {
                        for i in 0..<cin { a0 = a0.addingProduct(load(wj + i * cout), Vector<T>(repeating: x0[i])) }
                    }
                }
                store(a0, z + t * cout + ob)
                if pair { store(a1, z + (t + 1) * cout + ob) }
            }
            t += 2
        }
    }

    /// `dw[j][i][o] += sum_t x[t + j d][i] dz[t][o]`, over tiles of frames
    /// that stay in cache, four input channels at a time.
    static func weightGradient<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                  kernelSize k: Int, dilation d: Int, outputGradient dz: UnsafePointer<T>,
                                                  into dw: UnsafeMutablePointer<T>) {
        let tile = 128
        for t0 in stride(from: 0, to: frames, by: tile) {
            let t1 = min(t0 + tile, frames)
            for j in 0..<k {
                for i in stride(from: 0, to: cin, by: 4) {
                    for ob in stride(from: 0, to: cout, by: lanes) {
                        let base = dw + (j * cin + i) * cout + ob
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
            }
        }
    }

    /// `dx[s][i] += sum_j sum_o wt[j][o][i] dz[s - j d][o]` over the taps
    /// that reach input frame `s`.
    static func inputGradient<T: TrainingScalar>(_ dz: UnsafePointer<T>, frames: Int, inChannels cin: Int, outChannels cout: Int,
                                                 kernelSize k: Int, dilation d: Int, transposed wt: UnsafePointer<T>,
                                                 into dx: UnsafeMutablePointer<T>) {
        let inputFrames = frames + (k - 1) * d
        for s in 0..<inputFrames {
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
        }
    }
}
