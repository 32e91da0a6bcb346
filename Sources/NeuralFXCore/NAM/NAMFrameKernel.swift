/// The WaveNet's products for a single frame, vectorized over output rows
/// instead of time: for blocks too short to fill `NAMTimeKernel`'s 16-frame
/// tiles, which would compute 16 frames to keep one.
///
/// A row vector holds 16 output channels; each input value is broadcast and
/// multiplied by its row of weights (`[tap][in][rows]`, outputs contiguous,
/// as the time kernel stores them). Four accumulators take turns over the
/// inputs, so the multiply-adds do not wait on each other; the sums therefore
/// group differently from the time kernel's, and agree with it to float
/// rounding. Layers padded to 8 rows load 8 weights and zero the other lanes;
/// layers of 4 rows load 8 too (their buffers end with `NAMWaveNet.frameLoadSlack`
/// spare floats), and lanes 4 to 7 then hold sums of the next rows' weights
/// that nothing reads.
enum NAMFrameKernel {
    typealias Lanes = SIMD16<Float>

    /// Blocks shorter than this run frame by frame: on the standard capture
    /// one frame costs about a quarter of a 16-frame tile (fxbench, RTF 0.075
    /// at block 1 against 0.017 at block 16), so tiles win from 4 frames.
    /// The AVX2 build's tiles cost twice that against a frame (RTF 0.17 per
    /// frame; tiles 0.33 at block 4, 0.24 at 6, 0.17 at 8), so there frames
    /// run up to 7. Networks of layers no wider than 8 rows (the feather and
    /// nano presets) have cheap tiles on both widths: nano measured RTF 0.064
    /// at block 3 frame by frame and 0.034-0.044 at block 4 in tiles, so 3
    /// frames in a tile cost 0.05-0.06, and 2 frames (0.07-0.09) still less
    /// frame by frame.
    static func largestBlock(widestRows: Int) -> Int {
        if widestRows <= 8 { return 3 }
        #if NEURALFX_VECTOR256
        return 8
        #else
        return 4
        #endif
    }

    /// What a product starts from, per output row: `bias + mix * audio + addend`.
    struct Initial {
        var bias: UnsafePointer<Float>? = nil
        var mix: UnsafePointer<Float>? = nil
        var audio: Float = 0
        var addend: UnsafePointer<Float>? = nil

        init(bias: UnsafeMutablePointer<Float>? = nil, mix: UnsafeMutablePointer<Float>? = nil, audio: Float = 0,
             addend: UnsafeMutablePointer<Float>? = nil) {
            self.bias = bias.map { UnsafePointer($0) }
            self.mix = mix.map { UnsafePointer($0) }
            self.audio = audio
            self.addend = addend.map { UnsafePointer($0) }
        }

        // Transparent, as in `NAMTimeKernel`: an outlined call would pass
        // the vector in four 128-bit pieces.
        @_transparent
        func start(_ g: Int, _ width: Int) -> Lanes {
            var v = bias.map { row($0 + g, width) } ?? .zero
            if let m = mix { v = v.addingProduct(row(m + g, width), Lanes(repeating: audio)) }
            if let a = addend { v += row(a + g, width) }
            return v
        }
    }

    /// 16 rows from `p`, or 8 and zeros when the layer has 8 or 4.
    @_transparent
    static func row(_ p: UnsafePointer<Float>, _ width: Int) -> Lanes {
        if width >= 16 { return Lanes.load(p) }
        return Lanes(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: .zero)
    }

    /// `out[o] = initial(o) + sum over taps j, inputs i of W[j][i][o] * source[i * sourceStride + j * tapOffset]`
    /// for all `rows` (4, 8 or a multiple of 16) rows; writes whole 16-lane vectors.
    @_transparent
    static func product(into out: UnsafeMutablePointer<Float>, rows: Int, weights: UnsafePointer<Float>, inputs: Int,
                        source: UnsafePointer<Float>, sourceStride: Int = 1, taps: Int = 1, tapOffset: Int = 0,
                        initial: Initial?) {
        if rows < 16 {
            accumulate(into: out, width: 8, rows: rows, weights: weights, inputs: inputs, source: source,
                       sourceStride: sourceStride, taps: taps, tapOffset: tapOffset, initial: initial)
        } else {
            accumulate(into: out, width: 16, rows: rows, weights: weights, inputs: inputs, source: source,
                       sourceStride: sourceStride, taps: taps, tapOffset: tapOffset, initial: initial)
        }
    }

    /// `product` with the row width a constant where it is inlined, so the
    /// choice of load leaves the inner loop.
    @_transparent
    static func accumulate(into out: UnsafeMutablePointer<Float>, width: Int, rows: Int, weights: UnsafePointer<Float>,
                           inputs: Int, source: UnsafePointer<Float>, sourceStride: Int, taps: Int, tapOffset: Int,
                           initial: Initial?) {
        var g = 0
        repeat {
            var a0 = initial?.start(g, width) ?? .zero, a1 = Lanes.zero, a2 = Lanes.zero, a3 = Lanes.zero
            for j in 0..<taps {
                let base = source + j * tapOffset
                var w = weights + j * inputs * rows + g
                var i = 0
                while i + 4 <= inputs {
                    a0 = a0.addingProduct(Lanes(repeating: base[i * sourceStride]), row(w, width))
                    a1 = a1.addingProduct(Lanes(repeating: base[(i + 1) * sourceStride]), row(w + rows, width))
                    a2 = a2.addingProduct(Lanes(repeating: base[(i + 2) * sourceStride]), row(w + 2 * rows, width))
                    a3 = a3.addingProduct(Lanes(repeating: base[(i + 3) * sourceStride]), row(w + 3 * rows, width))
                    w += 4 * rows
                    i += 4
                }
                while i < inputs {
                    a0 = a0.addingProduct(Lanes(repeating: base[i * sourceStride]), row(w, width))
                    w += rows
                    i += 1
                }
            }
            ((a0 + a1) + (a2 + a3)).store(out + g)
            g += 16
        } while g < rows
    }

    /// `z = act(mid)`, or the gated unit with the gate rows after the
    /// primary ones, and `head += z`. Lanes past the real channels hold
    /// whatever the activation makes of zero; nothing reads them.
    @_transparent
    static func activate(_ mid: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>, head: UnsafeMutablePointer<Float>,
                         rows: Int, gated: Bool, activation: NAMActivation, precision: NAMActivationPrecision) {
        var g = 0
        repeat {
            let width = min(rows - g, 16)
            let a = row(mid + g, width)
            let v = gated ? activation.gated(a, row(mid + rows + g, width), precision) : activation.apply(a, precision)
            v.store(z + g)
            (Lanes.load(head + g) + v).store(head + g)
            g += 16
        } while g < rows
    }
}
