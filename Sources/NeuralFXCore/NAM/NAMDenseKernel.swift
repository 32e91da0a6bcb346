/// The one inner product every WaveNet 1x1 and dilated convolution reduces to:
///
///     out[t][o] = init(t)[o] + sum over taps j, inputs i of W[j][i][o] * src[t * inStride + j * tapStride + i]
///
/// `W` is tap-major with output lanes contiguous (`weightStride` floats per
/// column, a multiple of the vector width), so each weight vector is loaded
/// once per eight frames and each input sample is a broadcast operand of a
/// fused multiply-add. `init(t)` is `bias + mix * mixInput[t] + addend[t]`,
/// each term optional: the convolution's bias plus the audio mixed in, or the
/// residual input plus the 1x1's bias.
enum NAMDenseKernel {
    struct Source {
        var pointer: UnsafePointer<Float>
        var inputs: Int
        var stride: Int
        var taps = 1
        var tapStride = 0
    }

    struct Initial {
        var bias: UnsafePointer<Float>? = nil
        var mix: UnsafePointer<Float>? = nil
        var mixInput: UnsafePointer<Float>? = nil
        var addend: UnsafePointer<Float>? = nil
        var addendStride = 0
    }

    @inline(__always)
    static func run<V: FloatLanes>(_: V.Type, out: UnsafeMutablePointer<Float>, outStride: Int, groups: Int,
                                   weights: UnsafePointer<Float>, weightStride: Int,
                                   source: Source, initial: Initial, frames: Int) {
        tiles(V.self, out: out, outStride: outStride, groups: groups, weights: weights, weightStride: weightStride,
              source: source, inStride: source.stride, initial: initial, frames: frames)
    }

    @inline(__always)
    private static func tiles<V: FloatLanes>(_: V.Type, out: UnsafeMutablePointer<Float>, outStride: Int, groups: Int,
                                             weights: UnsafePointer<Float>, weightStride: Int, source: Source,
                                             inStride: Int, initial: Initial, frames: Int) {
        let lanes = V.scalarCount
        let inputs = source.inputs
        for g in 0..<groups {
            let offset = g * lanes
            @inline(__always) func start(_ t: Int) -> V {
                var v = initial.bias.map { V.load($0 + offset) } ?? V()
                if let m = initial.mix { v = V.fma(v, V.load(m + offset), V(repeating: initial.mixInput![t])) }
                if let a = initial.addend { v = V.add(v, V.load(a + t * initial.addendStride + offset)) }
                return v
            }
            var t = 0
            while t + 8 <= frames {
                var a0 = start(t), a1 = start(t + 1), a2 = start(t + 2), a3 = start(t + 3)
                var a4 = start(t + 4), a5 = start(t + 5), a6 = start(t + 6), a7 = start(t + 7)
                for j in 0..<source.taps {
                    // One base pointer per frame: each broadcast is then a
                    // register-plus-index operand, with no address arithmetic.
                    let s0 = source.pointer + j * source.tapStride + t * inStride
                    let s1 = s0 + inStride, s2 = s1 + inStride, s3 = s2 + inStride, s4 = s3 + inStride
                    let s5 = s4 + inStride, s6 = s5 + inStride, s7 = s6 + inStride
                    var w = weights + j * inputs * weightStride + offset
                    for i in 0..<inputs {
                        let wv = V.load(w)
                        w += weightStride
                        a0 = V.fma(a0, wv, V(repeating: s0[i]))
                        a1 = V.fma(a1, wv, V(repeating: s1[i]))
                        a2 = V.fma(a2, wv, V(repeating: s2[i]))
                        a3 = V.fma(a3, wv, V(repeating: s3[i]))
                        a4 = V.fma(a4, wv, V(repeating: s4[i]))
                        a5 = V.fma(a5, wv, V(repeating: s5[i]))
                        a6 = V.fma(a6, wv, V(repeating: s6[i]))
                        a7 = V.fma(a7, wv, V(repeating: s7[i]))
                    }
                }
                let o = out + t * outStride + offset
                a0.store(o); a1.store(o + outStride); a2.store(o + 2 * outStride); a3.store(o + 3 * outStride)
                a4.store(o + 4 * outStride); a5.store(o + 5 * outStride); a6.store(o + 6 * outStride)
                a7.store(o + 7 * outStride)
                t += 8
            }
            while t < frames {
                var a = start(t)
                for j in 0..<source.taps {
                    let s = source.pointer + j * source.tapStride + t * inStride
                    let w = weights + j * inputs * weightStride + offset
                    for i in 0..<inputs { a = V.fma(a, V.load(w + i * weightStride), V(repeating: s[i])) }
                }
                a.store(out + t * outStride + offset)
                t += 1
            }
        }
    }
}
