/// The inner product every WaveNet 1x1 and dilated convolution reduces to,
/// vectorized over time:
///
///     out[o][t] = init(o, t) + sum over taps j, inputs i of W[j][i][o] * src[i][t + j * tapOffset]
///
/// Rows are channels, each holding 16-frame tiles, so one input vector (16
/// frames of one channel) is loaded once and multiplied by every output's
/// weight, broadcast from memory at a fixed offset: 8 or 16 independent
/// accumulators stay in registers and every fused multiply-add is full width
/// whatever the channel count. `W` is tap-major with outputs contiguous
/// (`weightStride` floats per input column). Frames are processed in whole
/// tiles: callers size every buffer to a multiple of 16 frames, and lanes past
/// the block's end are computed but never used. `init(o, t)` is
/// `bias[o] + mix[o] * audio[t] + addend[o][t]`, each term optional.
enum NAMTimeKernel {
    typealias Lanes = SIMD16<Float>

    struct Source {
        var pointer: UnsafePointer<Float>
        var inputs: Int
        var rowStride: Int
        var taps = 1
        var tapOffset = 0
    }

    struct Initial {
        var bias: UnsafePointer<Float>? = nil
        var mix: UnsafePointer<Float>? = nil
        var audio: UnsafePointer<Float>? = nil
        var addend: UnsafePointer<Float>? = nil
        var addendRowStride = 0

        @inline(__always)
        func start(_ o: Int, _ t: Int) -> Lanes {
            var v = Lanes(repeating: bias?[o] ?? 0)
            if let m = mix { v = v.addingProduct(Lanes.load(audio! + t), Lanes(repeating: m[o])) }
            if let a = addend { v += Lanes.load(a + o * addendRowStride + t) }
            return v
        }
    }

    /// Where results go: rows of `pointer`, or, for the standard presets'
    /// layers (plain fast tanh), straight through the activation: `tanh` of
    /// each row into `activated` and added into `head` (same row stride), so
    /// the pre-activation never leaves registers.
    struct Output {
        var pointer: UnsafeMutablePointer<Float>
        var rowStride: Int
        var activated: UnsafeMutablePointer<Float>? = nil
        var head: UnsafeMutablePointer<Float>? = nil

        // Transparent: `@inline(__always)` was not honoured for this call,
        // and an outlined call passes the vector in four 128-bit pieces.
        @_transparent
        func put(_ a: Lanes, _ o: Int, _ t: Int) {
            let offset = o * rowStride + t
            guard let z = activated else { a.store(pointer + offset); return }
            let v = FastTanh.tanh(a)
            v.store(z + offset)
            (Lanes.load(head! + offset) + v).store(head! + offset)
        }

        func rows(from g: Int) -> Output {
            Output(pointer: pointer + g * rowStride, rowStride: rowStride, activated: activated.map { $0 + g * rowStride },
                   head: head.map { $0 + g * rowStride })
        }
    }

    /// All output rows: groups of 16, or one group of 8 or 4 when `rows` is 8 or 4.
    @inline(__always)
    static func run(_ output: Output, rows: Int, weights: UnsafePointer<Float>, source: Source, initial: Initial,
                    frames: Int) {
        if rows == 8 {
            rows8(output, weights: weights, weightStride: 8, source: source, initial: initial, frames: frames)
            return
        }
        if rows == 4 {
            rows4(output, weights: weights, source: source, initial: initial, frames: frames)
            return
        }
        for g in stride(from: 0, to: rows, by: 16) {
            var shifted = initial
            shifted.bias = initial.bias.map { $0 + g }
            shifted.mix = initial.mix.map { $0 + g }
            shifted.addend = initial.addend.map { $0 + g * initial.addendRowStride }
            rows16(output.rows(from: g), weights: weights + g, weightStride: rows, source: source, initial: shifted,
                   frames: frames)
        }
    }

    /// 16 output rows over one 16-frame tile at a time.
    @inline(__always)
    static func rows16(_ output: Output, weights: UnsafePointer<Float>, weightStride: Int, source: Source,
                       initial: Initial, frames: Int) {
        var t = 0
        while t < frames {
            var a0 = initial.start(0, t)
            var a1 = initial.start(1, t)
            var a2 = initial.start(2, t)
            var a3 = initial.start(3, t)
            var a4 = initial.start(4, t)
            var a5 = initial.start(5, t)
            var a6 = initial.start(6, t)
            var a7 = initial.start(7, t)
            var a8 = initial.start(8, t)
            var a9 = initial.start(9, t)
            var a10 = initial.start(10, t)
            var a11 = initial.start(11, t)
            var a12 = initial.start(12, t)
            var a13 = initial.start(13, t)
            var a14 = initial.start(14, t)
            var a15 = initial.start(15, t)
            for j in 0..<source.taps {
                let base = source.pointer + j * source.tapOffset + t
                var w = weights + j * source.inputs * weightStride
                for i in 0..<source.inputs {
                    let x = Lanes.load(base + i * source.rowStride)
                    a0 = a0.addingProduct(x, Lanes(repeating: w[0]))
                    a1 = a1.addingProduct(x, Lanes(repeating: w[1]))
                    a2 = a2.addingProduct(x, Lanes(repeating: w[2]))
                    a3 = a3.addingProduct(x, Lanes(repeating: w[3]))
                    a4 = a4.addingProduct(x, Lanes(repeating: w[4]))
                    a5 = a5.addingProduct(x, Lanes(repeating: w[5]))
                    a6 = a6.addingProduct(x, Lanes(repeating: w[6]))
                    a7 = a7.addingProduct(x, Lanes(repeating: w[7]))
                    a8 = a8.addingProduct(x, Lanes(repeating: w[8]))
                    a9 = a9.addingProduct(x, Lanes(repeating: w[9]))
                    a10 = a10.addingProduct(x, Lanes(repeating: w[10]))
                    a11 = a11.addingProduct(x, Lanes(repeating: w[11]))
                    a12 = a12.addingProduct(x, Lanes(repeating: w[12]))
                    a13 = a13.addingProduct(x, Lanes(repeating: w[13]))
                    a14 = a14.addingProduct(x, Lanes(repeating: w[14]))
                    a15 = a15.addingProduct(x, Lanes(repeating: w[15]))
                    w += weightStride
                }
            }
            output.put(a0, 0, t)
            output.put(a1, 1, t)
            output.put(a2, 2, t)
            output.put(a3, 3, t)
            output.put(a4, 4, t)
            output.put(a5, 5, t)
            output.put(a6, 6, t)
            output.put(a7, 7, t)
            output.put(a8, 8, t)
            output.put(a9, 9, t)
            output.put(a10, 10, t)
            output.put(a11, 11, t)
            output.put(a12, 12, t)
            output.put(a13, 13, t)
            output.put(a14, 14, t)
            output.put(a15, 15, t)
            t += 16
        }
    }

    /// 8 output rows over two 16-frame tiles at a time (16 independent
    /// accumulators keep both multiply-add units busy), then a last single tile.
    @inline(__always)
    static func rows8(_ output: Output, weights: UnsafePointer<Float>, weightStride: Int, source: Source,
                      initial: Initial, frames: Int) {
        var t = 0
        while t + 32 <= frames {
            var a0 = initial.start(0, t), b0 = initial.start(0, t + 16)
            var a1 = initial.start(1, t), b1 = initial.start(1, t + 16)
            var a2 = initial.start(2, t), b2 = initial.start(2, t + 16)
            var a3 = initial.start(3, t), b3 = initial.start(3, t + 16)
            var a4 = initial.start(4, t), b4 = initial.start(4, t + 16)
            var a5 = initial.start(5, t), b5 = initial.start(5, t + 16)
            var a6 = initial.start(6, t), b6 = initial.start(6, t + 16)
            var a7 = initial.start(7, t), b7 = initial.start(7, t + 16)
            for j in 0..<source.taps {
                let base = source.pointer + j * source.tapOffset + t
                var w = weights + j * source.inputs * weightStride
                for i in 0..<source.inputs {
                    let x = Lanes.load(base + i * source.rowStride), y = Lanes.load(base + i * source.rowStride + 16)
                    let w0 = Lanes(repeating: w[0])
                    a0 = a0.addingProduct(x, w0)
                    b0 = b0.addingProduct(y, w0)
                    let w1 = Lanes(repeating: w[1])
                    a1 = a1.addingProduct(x, w1)
                    b1 = b1.addingProduct(y, w1)
                    let w2 = Lanes(repeating: w[2])
                    a2 = a2.addingProduct(x, w2)
                    b2 = b2.addingProduct(y, w2)
                    let w3 = Lanes(repeating: w[3])
                    a3 = a3.addingProduct(x, w3)
                    b3 = b3.addingProduct(y, w3)
                    let w4 = Lanes(repeating: w[4])
                    a4 = a4.addingProduct(x, w4)
                    b4 = b4.addingProduct(y, w4)
                    let w5 = Lanes(repeating: w[5])
                    a5 = a5.addingProduct(x, w5)
                    b5 = b5.addingProduct(y, w5)
                    let w6 = Lanes(repeating: w[6])
                    a6 = a6.addingProduct(x, w6)
                    b6 = b6.addingProduct(y, w6)
                    let w7 = Lanes(repeating: w[7])
                    a7 = a7.addingProduct(x, w7)
                    b7 = b7.addingProduct(y, w7)
                    w += weightStride
                }
            }
            output.put(a0, 0, t)
            output.put(b0, 0, t + 16)
            output.put(a1, 1, t)
            output.put(b1, 1, t + 16)
            output.put(a2, 2, t)
            output.put(b2, 2, t + 16)
            output.put(a3, 3, t)
            output.put(b3, 3, t + 16)
            output.put(a4, 4, t)
            output.put(b4, 4, t + 16)
            output.put(a5, 5, t)
            output.put(b5, 5, t + 16)
            output.put(a6, 6, t)
            output.put(b6, 6, t + 16)
            output.put(a7, 7, t)
            output.put(b7, 7, t + 16)
            t += 32
        }
        while t < frames {
            var a0 = initial.start(0, t)
            var a1 = initial.start(1, t)
            var a2 = initial.start(2, t)
            var a3 = initial.start(3, t)
            var a4 = initial.start(4, t)
            var a5 = initial.start(5, t)
            var a6 = initial.start(6, t)
            var a7 = initial.start(7, t)
            for j in 0..<source.taps {
                let base = source.pointer + j * source.tapOffset + t
                var w = weights + j * source.inputs * weightStride
                for i in 0..<source.inputs {
                    let x = Lanes.load(base + i * source.rowStride)
                    a0 = a0.addingProduct(x, Lanes(repeating: w[0]))
                    a1 = a1.addingProduct(x, Lanes(repeating: w[1]))
                    a2 = a2.addingProduct(x, Lanes(repeating: w[2]))
                    a3 = a3.addingProduct(x, Lanes(repeating: w[3]))
                    a4 = a4.addingProduct(x, Lanes(repeating: w[4]))
                    a5 = a5.addingProduct(x, Lanes(repeating: w[5]))
                    a6 = a6.addingProduct(x, Lanes(repeating: w[6]))
                    a7 = a7.addingProduct(x, Lanes(repeating: w[7]))
                    w += weightStride
                }
            }
            output.put(a0, 0, t)
            output.put(a1, 1, t)
            output.put(a2, 2, t)
            output.put(a3, 3, t)
            output.put(a4, 4, t)
            output.put(a5, 5, t)
            output.put(a6, 6, t)
            output.put(a7, 7, t)
            t += 16
        }
    }
}

extension NAMTimeKernel {
    /// 4 output rows (the small presets' second array, of 2 to 4 channels)
    /// over four 16-frame tiles at a time: 16 independent accumulators, as
    /// `rows8` keeps with two tiles; padding these layers to 8 rows doubled
    /// their work. Then single tiles.
    @inline(__always)
    static func rows4(_ output: Output, weights: UnsafePointer<Float>, source: Source, initial: Initial, frames: Int) {
        var t = 0
        while t + 64 <= frames {
            var a0 = initial.start(0, t), b0 = initial.start(0, t + 16), c0 = initial.start(0, t + 32), d0 = initial.start(0, t + 48)
            var a1 = initial.start(1, t), b1 = initial.start(1, t + 16), c1 = initial.start(1, t + 32), d1 = initial.start(1, t + 48)
            var a2 = initial.start(2, t), b2 = initial.start(2, t + 16), c2 = initial.start(2, t + 32), d2 = initial.start(2, t + 48)
            var a3 = initial.start(3, t), b3 = initial.start(3, t + 16), c3 = initial.start(3, t + 32), d3 = initial.start(3, t + 48)
            for j in 0..<source.taps {
                let base = source.pointer + j * source.tapOffset + t
                var w = weights + j * source.inputs * 4
                for i in 0..<source.inputs {
                    let p = base + i * source.rowStride
                    let x = Lanes.load(p), y = Lanes.load(p + 16), u = Lanes.load(p + 32), v = Lanes.load(p + 48)
                    let w0 = Lanes(repeating: w[0])
                    a0 = a0.addingProduct(x, w0)
                    b0 = b0.addingProduct(y, w0)
                    c0 = c0.addingProduct(u, w0)
                    d0 = d0.addingProduct(v, w0)
                    let w1 = Lanes(repeating: w[1])
                    a1 = a1.addingProduct(x, w1)
                    b1 = b1.addingProduct(y, w1)
                    c1 = c1.addingProduct(u, w1)
                    d1 = d1.addingProduct(v, w1)
                    let w2 = Lanes(repeating: w[2])
                    a2 = a2.addingProduct(x, w2)
                    b2 = b2.addingProduct(y, w2)
                    c2 = c2.addingProduct(u, w2)
                    d2 = d2.addingProduct(v, w2)
                    let w3 = Lanes(repeating: w[3])
                    a3 = a3.addingProduct(x, w3)
                    b3 = b3.addingProduct(y, w3)
                    c3 = c3.addingProduct(u, w3)
                    d3 = d3.addingProduct(v, w3)
                    w += 4
                }
            }
            output.put(a0, 0, t)
            output.put(b0, 0, t + 16)
            output.put(c0, 0, t + 32)
            output.put(d0, 0, t + 48)
            output.put(a1, 1, t)
            output.put(b1, 1, t + 16)
            output.put(c1, 1, t + 32)
            output.put(d1, 1, t + 48)
            output.put(a2, 2, t)
            output.put(b2, 2, t + 16)
            output.put(c2, 2, t + 32)
            output.put(d2, 2, t + 48)
            output.put(a3, 3, t)
            output.put(b3, 3, t + 16)
            output.put(c3, 3, t + 32)
            output.put(d3, 3, t + 48)
            t += 64
        }
        while t < frames {
            var a0 = initial.start(0, t)
            var a1 = initial.start(1, t)
            var a2 = initial.start(2, t)
            var a3 = initial.start(3, t)
            for j in 0..<source.taps {
                let base = source.pointer + j * source.tapOffset + t
                var w = weights + j * source.inputs * 4
                for i in 0..<source.inputs {
                    let x = Lanes.load(base + i * source.rowStride)
                    a0 = a0.addingProduct(x, Lanes(repeating: w[0]))
                    a1 = a1.addingProduct(x, Lanes(repeating: w[1]))
                    a2 = a2.addingProduct(x, Lanes(repeating: w[2]))
                    a3 = a3.addingProduct(x, Lanes(repeating: w[3]))
                    w += 4
                }
            }
            output.put(a0, 0, t)
            output.put(a1, 1, t)
            output.put(a2, 2, t)
            output.put(a3, 3, t)
            t += 16
        }
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
    }
}
