/// micro-tcn's `conv1` as it trains: an unpadded ("valid") dilated
/// convolution over a chunk, `z[t][o] = sum_j sum_i W[o][i][j] x[t + j d][i]`,
/// so each output frame is aligned with its newest tap `t + (k - 1) d` of the
/// input. Signals are time-major (channels contiguous per frame).
///
/// Weights are used tap-major, `[j][i / groups][o]`, so the inner loops are
/// contiguous over output channels; `transposed` (`[j][o][i]`, dense only)
/// makes the input-gradient loop contiguous too.
struct DilatedConvolution {
    let inChannels: Int
    let outChannels: Int
    let kernelSize: Int
    let dilation: Int
    let groups: Int

    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    var weightCount: Int { outChannels * inPerGroup * kernelSize }
    var span: Int { (kernelSize - 1) * dilation }

    /// PyTorch `[o][i][j]` -> `[j][i][o]`, and the dense transpose `[j][o][i]`.
    func pack<T: TrainingScalar>(_ torch: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>,
                                 transposed: UnsafeMutablePointer<T>?) {
        let ipg = inPerGroup, k = kernelSize, cout = outChannels
        for o in 0..<cout {
            for i in 0..<ipg {
                for j in 0..<k {
                    let w = torch[(o * ipg + i) * k + j]
                    packed[(j * ipg + i) * cout + o] = w
                    transposed?[(j * cout + o) * ipg + i] = w
                }
            }
        }
    }

    /// Adds a tap-major gradient into a PyTorch-ordered one.
    func unpackAdding<T: TrainingScalar>(_ packed: UnsafePointer<T>, into torch: UnsafeMutablePointer<T>) {
        let ipg = inPerGroup, k = kernelSize, cout = outChannels
        for o in 0..<cout {
            for i in 0..<ipg {
                for j in 0..<k { torch[(o * ipg + i) * k + j] += packed[(j * ipg + i) * cout + o] }
            }
        }
    }

    /// `frames` output frames from `frames + span` input frames.
    func forward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, weights w: UnsafePointer<T>,
                                    into z: UnsafeMutablePointer<T>) {
        let cin = inChannels, cout = outChannels, ipg = inPerGroup, opg = outPerGroup
        if groups == 1 && cout % lanes == 0 {
            ConvolutionKernels.forward(x, frames: frames, inChannels: cin, outChannels: cout, kernelSize: kernelSize,
                                       dilation: dilation, weights: w, into: z, vector: SIMD16<T>.self)
            return
        }
        z.update(repeating: 0, count: frames * cout)
        for t in 0..<frames {
            let zrow = z + t * cout
            for j in 0..<kernelSize {
                let xrow = x + (t + j * dilation) * cin
                let wj = w + j * ipg * cout
                if groups == 1 {
                    for i in 0..<cin {
                        let v = xrow[i], wr = wj + i * cout
                        for o in 0..<cout { zrow[o] += wr[o] * v }
                    }
                } else {
                    for o in 0..<cout {
                        let first = (o / opg) * ipg
                        var acc: T = 0
                        for i in 0..<ipg { acc += wj[i * cout + o] * xrow[first + i] }
                        zrow[o] += acc
                    }
                }
            }
        }
    }

    /// Accumulates the tap-major weight gradient into `dw` and, when `dx` is
    /// given, the input gradient into `dx` (`frames + span` frames).
    func backward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, outputGradient dz: UnsafePointer<T>,
                                     weights w: UnsafePointer<T>, transposed wt: UnsafePointer<T>?,
                                     weightGradient dw: UnsafeMutablePointer<T>, inputGradient dx: UnsafeMutablePointer<T>?) {
        let cin = inChannels, cout = outChannels, ipg = inPerGroup, opg = outPerGroup
        if groups == 1 && cout % lanes == 0 && cin % 4 == 0 && (dx == nil || cin % lanes == 0) {
            ConvolutionKernels.weightGradient(x, frames: frames, inChannels: cin, outChannels: cout, kernelSize: kernelSize,
                                              dilation: dilation, outputGradient: dz, into: dw, vector: SIMD16<T>.self)
            if let dx, let wt {
                ConvolutionKernels.inputGradient(dz, frames: frames, inChannels: cin, outChannels: cout, kernelSize: kernelSize,
                                                 dilation: dilation, transposed: wt, into: dx, vector: SIMD16<T>.self)
            }
            return
        }
        for t in 0..<frames {
            let dzrow = dz + t * cout
            for j in 0..<kernelSize {
                let xrow = x + (t + j * dilation) * cin
                let dwj = dw + j * ipg * cout
                if groups == 1 {
                    for i in 0..<cin {
                        let v = xrow[i], dwr = dwj + i * cout
                        for o in 0..<cout { dwr[o] += v * dzrow[o] }
                    }
                    if let dx, let wt {
                        let dxrow = dx + (t + j * dilation) * cin
                        let wtj = wt + j * cout * cin
                        for o in 0..<cout {
                            let g = dzrow[o], wr = wtj + o * cin
                            for i in 0..<cin { dxrow[i] += wr[i] * g }
                        }
                    }
                } else {
                    let wj = w + j * ipg * cout
                    let dxrow = dx.map { $0 + (t + j * dilation) * cin }
                    for o in 0..<cout {
                        let first = (o / opg) * ipg, g = dzrow[o]
                        for i in 0..<ipg {
                            dwj[i * cout + o] += g * xrow[first + i]
                            dxrow?[first + i] += wj[i * cout + o] * g
                        }
                    }
                }
            }
        }
    }
}

/// A per-frame linear map with bias in PyTorch's `[out][in]` layout: the
/// grouped models' `conv1b`, the output layer, the conditioning network and
/// the FiLM adaptors (one frame each).
struct LinearMap {
    let inputs: Int
    let outputs: Int

    func forward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, weights w: UnsafePointer<T>, bias b: UnsafePointer<T>,
                                    into y: UnsafeMutablePointer<T>) {
        for t in 0..<frames {
            let xrow = x + t * inputs, yrow = y + t * outputs
            for o in 0..<outputs {
                let wr = w + o * inputs
                var acc = b[o]
                for i in 0..<inputs { acc += wr[i] * xrow[i] }
                yrow[o] = acc
            }
        }
    }

    func backward<T: TrainingScalar>(_ x: UnsafePointer<T>, frames: Int, outputGradient dy: UnsafePointer<T>,
                                     weights w: UnsafePointer<T>, weightGradient dw: UnsafeMutablePointer<T>,
                                     biasGradient db: UnsafeMutablePointer<T>, inputGradient dx: UnsafeMutablePointer<T>?) {
        for t in 0..<frames {
            let xrow = x + t * inputs, dyrow = dy + t * outputs
            let dxrow = dx.map { $0 + t * inputs }
            for o in 0..<outputs {
                let g = dyrow[o]
                db[o] += g
                let wr = w + o * inputs, dwr = dw + o * inputs
                for i in 0..<inputs { dwr[i] += g * xrow[i] }
                if let dxrow { for i in 0..<inputs { dxrow[i] += wr[i] * g } }
            }
        }
    }
}
