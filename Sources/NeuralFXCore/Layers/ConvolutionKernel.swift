/// The dense inner loop of every convolution:
///
///     out[t][o] += sum_j sum_i w[j][i][o] * window_j[t * cin + i]
///
/// with weights `[tap][in][out]` and, per tap, a window of time-major input
/// frames, so one tap of a frame tile is a run of contiguous frames (the ring
/// buffers repeat their first block's worth of frames past the end for this).
///
/// The work is register-blocked: a tile of 12 frames by 32 output channels
/// keeps 24 SIMD16 accumulators in registers; each step loads two weight
/// vectors and broadcasts one input scalar per frame, so one weight load
/// serves 12 fused multiply-adds. Sixteen channels (a 16-channel network, or
/// the rest of a width that is an odd multiple of 16) use tiles of 24 frames
/// by 16. Shorter tails use 4-frame tiles, and single frames a kernel that
/// works on four taps at once so its multiply-adds do not wait on each other.
///
/// Summation order is the same in every kernel (for each output: the sum over
/// inputs of one tap, in input order, starting from zero, then added to the
/// output tap by tap), so results are bit-identical however the frames are
/// blocked: streaming in any block size reproduces whole-file rendering exactly.
enum ConvolutionKernel {
    typealias Vector = SIMD16<Float>
    /// Weight bytes one pass over the taps may touch (half a 48 KiB L1 data cache).
    static let l1WeightBytes = 24 << 10

    /// How the outputs start: overwritten with `initial` (a bias, one value
    /// per output channel) or zero plus the sum, or accumulated onto.
    struct Start {
        let overwrite: Bool
        let initial: UnsafePointer<Float>?

        static let zero = Start(overwrite: true, initial: nil)
        static let existing = Start(overwrite: false, initial: nil)
        static func bias(_ b: UnsafePointer<Float>?) -> Start { Start(overwrite: true, initial: b) }

        func offset(_ column: Int) -> Start { Start(overwrite: overwrite, initial: initial.map { $0 + column }) }
    }

    /// Where each tap's input frames start.
    typealias Windows = UnsafePointer<UnsafePointer<Float>>

    static func run(into output: UnsafeMutablePointer<Float>, start: Start, windows: Windows,
                    taps: Int, weights: UnsafePointer<Float>,
                    frames: Int, inChannels: Int, outChannels: Int) {
        let cout = outChannels
        if cout == 1 && inChannels % 16 == 0 {
            dotProducts(into: output, start: start, windows: windows, taps: taps, weights: weights,
                        frames: frames, inChannels: inChannels)
            return
        }
        guard cout % 16 == 0 else {
            scalar(into: output, start: start, windows: windows, taps: taps, weights: weights,
                   frames: frames, inChannels: inChannels, outChannels: cout)
            return
        }
        #if NEURALFX_VECTOR256
        var column = 0
        while column < cout {
            columns(.narrow256, at: column, into: output, start: start, windows: windows, taps: taps,
                    weights: weights, frames: frames, inChannels: inChannels, outChannels: cout)
            column += 16
        }
        #else
        var column = 0
        while column + 32 <= cout {
            columns(.wide, at: column, into: output, start: start, windows: windows, taps: taps,
                    weights: weights, frames: frames, inChannels: inChannels, outChannels: cout)
            column += 32
        }
        if column < cout {
            // The last 16 channels (all of them in a 16-channel network).
            columns(.narrow, at: column, into: output, start: start, windows: windows, taps: taps,
                    weights: weights, frames: frames, inChannels: inChannels, outChannels: cout)
        }
        #endif
    }

    /// Frames of a run of `frames` that no tile covers: the greedy walk in
    /// `columns` (whole tiles, then 4-frame tiles) leaves them to the
    /// single-frame kernel, whose multiply-adds wait on each other. Zero for
    /// output widths that are not tiled.
    static func singleFrames(in frames: Int, outChannels: Int) -> Int {
        guard outChannels % 16 == 0 else { return 0 }
        #if NEURALFX_VECTOR256
        let tile = Tiling.narrow256.tileFrames
        #else
        let tile = (outChannels >= 32 ? Tiling.wide : Tiling.narrow).tileFrames
        #endif
        var left = frames, single = 0
        while left > 0 {
            let taken = step(left: left, tile: tile)
            if taken == 1 { single += 1 }
            left -= taken
        }
        return single
    }

    /// The frames the next tile of a run takes, `left` frames still to go:
    /// a whole tile, else a 4-frame tile, else one frame.
    @inline(__always)
    static func step(left: Int, tile: Int) -> Int { left >= tile ? tile : left >= 4 ? 4 : 1 }

    /// The tilings of a group of output channels: 32 channels in tiles of
    /// 12 frames, or 16 channels in tiles of 24 (both 24 accumulators); with
    /// 256-bit vectors (AVX2: sixteen registers of eight floats) those would
    /// spill, so 16 channels in tiles of 6 (12 eight-float accumulators, two
    /// weight registers, one broadcast).
    enum Tiling {
        case wide, narrow, narrow256

        var channels: Int { self == .wide ? 32 : 16 }
        var tileFrames: Int {
            switch self {
            case .wide: 12
            case .narrow: 24
            case .narrow256: 6
            }
        }
    }

    /// One group of output channels starting at `column`, over all frames.
    @inline(__always)
    static func columns(_ tiling: Tiling, at column: Int, into output: UnsafeMutablePointer<Float>, start: Start,
                        windows: Windows, taps: Int, weights: UnsafePointer<Float>,
                        frames: Int, inChannels: Int, outChannels cout: Int) {
        // With several frame tiles, taps go in passes whose weights fit in
        // half the L1 cache, so the tiles after the first read them from L1.
        // Each tap is still added in order, so the result does not change.
        let tile = tiling.tileFrames
        let passes = frames >= 2 * tile ? (taps * inChannels * tiling.channels * 4 + l1WeightBytes - 1) / l1WeightBytes : 1
        let tapsPerPass = (taps + passes - 1) / passes
        var firstTap = 0
        while firstTap < taps {
            let n = min(tapsPerPass, taps - firstTap)
            let x = windows + firstTap, w = weights + firstTap * inChannels * cout + column
            let s = firstTap == 0 ? start.offset(column) : .existing
            // Whole tiles, then 4-frame tiles, then single frames.
            var t = 0
            while t < frames {
                let left = frames - t
                let taken = step(left: left, tile: tile)
                let o = output + t * cout + column, xt = t * inChannels
                switch (tiling, taken) {
                case (.wide, 1): frame32(o, s, x, xt, n, w, inChannels, cout)
                case (.wide, 4): tile4x32(o, s, x, xt, n, w, inChannels, cout)
                case (.wide, _): tile12x32(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow, 1): frame16(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow, 4): tile4x16(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow, _): tile24x16(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow256, 1): frame16(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow256, 4): tile4x16(o, s, x, xt, n, w, inChannels, cout)
                case (.narrow256, _): tile6x16(o, s, x, xt, n, w, inChannels, cout)
                }
                t += taken
            }
            firstTap += n
        }
    }

    typealias HalfVector = SIMD8<Float>

    @inline(__always)
    static func loadHalf(_ p: UnsafePointer<Float>) -> HalfVector { UnsafeRawPointer(p).loadUnaligned(as: HalfVector.self) }

    /// `flush16` for a channel group held as two eight-float halves.
    @inline(__always)
    static func flushHalves(_ a: HalfVector, _ b: HalfVector, _ out: UnsafeMutablePointer<Float>, _ start: Start, first: Bool) {
        flush16(Vector(lowHalf: a, highHalf: b), out, start, first: first)
    }

    /// 6 frames by 16 channels in eight-float halves: 12 accumulators.
    static func tile6x16(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                         _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        for j in 0..<taps {
            var p0a = HalfVector(), p0b = HalfVector(), p1a = HalfVector(), p1b = HalfVector()
            var p2a = HalfVector(), p2b = HalfVector(), p3a = HalfVector(), p3b = HalfVector()
            var p4a = HalfVector(), p4b = HalfVector(), p5a = HalfVector(), p5b = HalfVector()
            var xp = x[j] + offset
            var wp = weights + j * cin * cout
            for _ in 0..<cin {
                let w0 = loadHalf(wp), w1 = loadHalf(wp + 8)
                var b = HalfVector(repeating: xp[0]); p0a.addProduct(w0, b); p0b.addProduct(w1, b)
                b = HalfVector(repeating: xp[1 * cin]); p1a.addProduct(w0, b); p1b.addProduct(w1, b)
                b = HalfVector(repeating: xp[2 * cin]); p2a.addProduct(w0, b); p2b.addProduct(w1, b)
                b = HalfVector(repeating: xp[3 * cin]); p3a.addProduct(w0, b); p3b.addProduct(w1, b)
                b = HalfVector(repeating: xp[4 * cin]); p4a.addProduct(w0, b); p4b.addProduct(w1, b)
                b = HalfVector(repeating: xp[5 * cin]); p5a.addProduct(w0, b); p5b.addProduct(w1, b)
                wp += cout
                xp += 1
            }
            let first = j == 0
            flushHalves(p0a, p0b, out, start, first: first)
            flushHalves(p1a, p1b, out + 1 * cout, start, first: first)
            flushHalves(p2a, p2b, out + 2 * cout, start, first: first)
            flushHalves(p3a, p3b, out + 3 * cout, start, first: first)
            flushHalves(p4a, p4b, out + 4 * cout, start, first: first)
            flushHalves(p5a, p5b, out + 5 * cout, start, first: first)
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Vector { load(UnsafePointer(p)) }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// Adds one tap's partial sums for 32 channels of one frame into the
    /// output; the first tap of an overwriting run starts from the initial values.
    @inline(__always)
    static func flush(_ a: Vector, _ b: Vector, _ out: UnsafeMutablePointer<Float>, _ start: Start, first: Bool) {
        if first && start.overwrite {
            if let i = start.initial {
                store(load(i) + a, out)
                store(load(i + 16) + b, out + 16)
            } else {
                store(a, out)
                store(b, out + 16)
            }
        } else {
            store(load(out) + a, out)
            store(load(out + 16) + b, out + 16)
        }
    }

    static func tile12x32(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                          _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        for j in 0..<taps {
            var p0a = Vector(), p0b = Vector(), p1a = Vector(), p1b = Vector(), p2a = Vector(), p2b = Vector()
            var p3a = Vector(), p3b = Vector(), p4a = Vector(), p4b = Vector(), p5a = Vector(), p5b = Vector()
            var p6a = Vector(), p6b = Vector(), p7a = Vector(), p7b = Vector(), p8a = Vector(), p8b = Vector()
            var p9a = Vector(), p9b = Vector(), p10a = Vector(), p10b = Vector(), p11a = Vector(), p11b = Vector()
            var xp = x[j] + offset
            var wp = weights + j * cin * cout
            for _ in 0..<cin {
                let w0 = load(wp), w1 = load(wp + 16)
                var b = Vector(repeating: xp[0]); p0a.addProduct(w0, b); p0b.addProduct(w1, b)
                b = Vector(repeating: xp[1 * cin]); p1a.addProduct(w0, b); p1b.addProduct(w1, b)
                b = Vector(repeating: xp[2 * cin]); p2a.addProduct(w0, b); p2b.addProduct(w1, b)
                b = Vector(repeating: xp[3 * cin]); p3a.addProduct(w0, b); p3b.addProduct(w1, b)
                b = Vector(repeating: xp[4 * cin]); p4a.addProduct(w0, b); p4b.addProduct(w1, b)
                b = Vector(repeating: xp[5 * cin]); p5a.addProduct(w0, b); p5b.addProduct(w1, b)
                b = Vector(repeating: xp[6 * cin]); p6a.addProduct(w0, b); p6b.addProduct(w1, b)
                b = Vector(repeating: xp[7 * cin]); p7a.addProduct(w0, b); p7b.addProduct(w1, b)
                b = Vector(repeating: xp[8 * cin]); p8a.addProduct(w0, b); p8b.addProduct(w1, b)
                b = Vector(repeating: xp[9 * cin]); p9a.addProduct(w0, b); p9b.addProduct(w1, b)
                b = Vector(repeating: xp[10 * cin]); p10a.addProduct(w0, b); p10b.addProduct(w1, b)
                b = Vector(repeating: xp[11 * cin]); p11a.addProduct(w0, b); p11b.addProduct(w1, b)
                wp += cout
                xp += 1
            }
            flush(p0a, p0b, out, start, first: j == 0)
            flush(p1a, p1b, out + 1 * cout, start, first: j == 0)
            flush(p2a, p2b, out + 2 * cout, start, first: j == 0)
            flush(p3a, p3b, out + 3 * cout, start, first: j == 0)
            flush(p4a, p4b, out + 4 * cout, start, first: j == 0)
            flush(p5a, p5b, out + 5 * cout, start, first: j == 0)
            flush(p6a, p6b, out + 6 * cout, start, first: j == 0)
            flush(p7a, p7b, out + 7 * cout, start, first: j == 0)
            flush(p8a, p8b, out + 8 * cout, start, first: j == 0)
            flush(p9a, p9b, out + 9 * cout, start, first: j == 0)
            flush(p10a, p10b, out + 10 * cout, start, first: j == 0)
            flush(p11a, p11b, out + 11 * cout, start, first: j == 0)
        }
    }

    static func tile4x32(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                         _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        for j in 0..<taps {
            var p0a = Vector(), p0b = Vector(), p1a = Vector(), p1b = Vector()
            var p2a = Vector(), p2b = Vector(), p3a = Vector(), p3b = Vector()
            var xp = x[j] + offset
            var wp = weights + j * cin * cout
            for _ in 0..<cin {
                let w0 = load(wp), w1 = load(wp + 16)
                var b = Vector(repeating: xp[0]); p0a.addProduct(w0, b); p0b.addProduct(w1, b)
                b = Vector(repeating: xp[1 * cin]); p1a.addProduct(w0, b); p1b.addProduct(w1, b)
                b = Vector(repeating: xp[2 * cin]); p2a.addProduct(w0, b); p2b.addProduct(w1, b)
                b = Vector(repeating: xp[3 * cin]); p3a.addProduct(w0, b); p3b.addProduct(w1, b)
                wp += cout
                xp += 1
            }
            flush(p0a, p0b, out, start, first: j == 0)
            flush(p1a, p1b, out + 1 * cout, start, first: j == 0)
            flush(p2a, p2b, out + 2 * cout, start, first: j == 0)
            flush(p3a, p3b, out + 3 * cout, start, first: j == 0)
        }
    }

    /// One frame, 32 channels: four taps run side by side (eight independent
    /// accumulators), then join the output in tap order.
    static func frame32(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                        _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        let tapWeights = cin * cout
        var j = 0
        while j + 4 <= taps {
            var p0a = Vector(), p0b = Vector(), p1a = Vector(), p1b = Vector()
            var p2a = Vector(), p2b = Vector(), p3a = Vector(), p3b = Vector()
            var xp = x[j] + offset
            let d1 = x[j].distance(to: x[j + 1]), d2 = x[j].distance(to: x[j + 2]), d3 = x[j].distance(to: x[j + 3])
            var wp = weights + j * tapWeights
            for _ in 0..<cin {
                var b = Vector(repeating: xp[0])
                p0a.addProduct(load(wp), b); p0b.addProduct(load(wp + 16), b)
                b = Vector(repeating: xp[d1])
                p1a.addProduct(load(wp + tapWeights), b); p1b.addProduct(load(wp + tapWeights + 16), b)
                b = Vector(repeating: xp[d2])
                p2a.addProduct(load(wp + 2 * tapWeights), b); p2b.addProduct(load(wp + 2 * tapWeights + 16), b)
                b = Vector(repeating: xp[d3])
                p3a.addProduct(load(wp + 3 * tapWeights), b); p3b.addProduct(load(wp + 3 * tapWeights + 16), b)
                wp += cout
                xp += 1
            }
            flush(p0a, p0b, out, start, first: j == 0)
            flush(p1a, p1b, out, start, first: false)
            flush(p2a, p2b, out, start, first: false)
            flush(p3a, p3b, out, start, first: false)
            j += 4
        }
        while j < taps {
            var pa = Vector(), pb = Vector()
            var xp = x[j] + offset
            var wp = weights + j * tapWeights
            for _ in 0..<cin {
                let b = Vector(repeating: xp[0])
                pa.addProduct(load(wp), b); pb.addProduct(load(wp + 16), b)
                wp += cout
                xp += 1
            }
            flush(pa, pb, out, start, first: j == 0)
            j += 1
        }
    }

    /// Adds one tap's partial sums for 16 channels of one frame (see `flush`).
    @inline(__always)
    static func flush16(_ a: Vector, _ out: UnsafeMutablePointer<Float>, _ start: Start, first: Bool) {
        if first && start.overwrite {
            store(start.initial.map { load($0) + a } ?? a, out)
        } else {
            store(load(out) + a, out)
        }
    }

    /// 24 frames by 16 channels: 24 accumulators, one weight load per input
    /// serving 24 fused multiply-adds.
    static func tile24x16(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                          _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        for j in 0..<taps {
            var p0 = Vector(), p1 = Vector(), p2 = Vector(), p3 = Vector(), p4 = Vector(), p5 = Vector()
            var p6 = Vector(), p7 = Vector(), p8 = Vector(), p9 = Vector(), p10 = Vector(), p11 = Vector()
            var p12 = Vector(), p13 = Vector(), p14 = Vector(), p15 = Vector(), p16 = Vector(), p17 = Vector()
            var p18 = Vector(), p19 = Vector(), p20 = Vector(), p21 = Vector(), p22 = Vector(), p23 = Vector()
            var xp = x[j] + offset
            var wp = weights + j * cin * cout
            for _ in 0..<cin {
                let w = load(wp)
                p0.addProduct(w, Vector(repeating: xp[0])); p1.addProduct(w, Vector(repeating: xp[1 * cin]))
                p2.addProduct(w, Vector(repeating: xp[2 * cin])); p3.addProduct(w, Vector(repeating: xp[3 * cin]))
                p4.addProduct(w, Vector(repeating: xp[4 * cin])); p5.addProduct(w, Vector(repeating: xp[5 * cin]))
                p6.addProduct(w, Vector(repeating: xp[6 * cin])); p7.addProduct(w, Vector(repeating: xp[7 * cin]))
                p8.addProduct(w, Vector(repeating: xp[8 * cin])); p9.addProduct(w, Vector(repeating: xp[9 * cin]))
                p10.addProduct(w, Vector(repeating: xp[10 * cin])); p11.addProduct(w, Vector(repeating: xp[11 * cin]))
                p12.addProduct(w, Vector(repeating: xp[12 * cin])); p13.addProduct(w, Vector(repeating: xp[13 * cin]))
                p14.addProduct(w, Vector(repeating: xp[14 * cin])); p15.addProduct(w, Vector(repeating: xp[15 * cin]))
                p16.addProduct(w, Vector(repeating: xp[16 * cin])); p17.addProduct(w, Vector(repeating: xp[17 * cin]))
                p18.addProduct(w, Vector(repeating: xp[18 * cin])); p19.addProduct(w, Vector(repeating: xp[19 * cin]))
                p20.addProduct(w, Vector(repeating: xp[20 * cin])); p21.addProduct(w, Vector(repeating: xp[21 * cin]))
                p22.addProduct(w, Vector(repeating: xp[22 * cin])); p23.addProduct(w, Vector(repeating: xp[23 * cin]))
                wp += cout
                xp += 1
            }
            let first = j == 0
            flush16(p0, out, start, first: first); flush16(p1, out + 1 * cout, start, first: first)
            flush16(p2, out + 2 * cout, start, first: first); flush16(p3, out + 3 * cout, start, first: first)
            flush16(p4, out + 4 * cout, start, first: first); flush16(p5, out + 5 * cout, start, first: first)
            flush16(p6, out + 6 * cout, start, first: first); flush16(p7, out + 7 * cout, start, first: first)
            flush16(p8, out + 8 * cout, start, first: first); flush16(p9, out + 9 * cout, start, first: first)
            flush16(p10, out + 10 * cout, start, first: first); flush16(p11, out + 11 * cout, start, first: first)
            flush16(p12, out + 12 * cout, start, first: first); flush16(p13, out + 13 * cout, start, first: first)
            flush16(p14, out + 14 * cout, start, first: first); flush16(p15, out + 15 * cout, start, first: first)
            flush16(p16, out + 16 * cout, start, first: first); flush16(p17, out + 17 * cout, start, first: first)
            flush16(p18, out + 18 * cout, start, first: first); flush16(p19, out + 19 * cout, start, first: first)
            flush16(p20, out + 20 * cout, start, first: first); flush16(p21, out + 21 * cout, start, first: first)
            flush16(p22, out + 22 * cout, start, first: first); flush16(p23, out + 23 * cout, start, first: first)
        }
    }

    static func tile4x16(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                         _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        for j in 0..<taps {
            var p0 = Vector(), p1 = Vector(), p2 = Vector(), p3 = Vector()
            var xp = x[j] + offset
            var wp = weights + j * cin * cout
            for _ in 0..<cin {
                let w = load(wp)
                p0.addProduct(w, Vector(repeating: xp[0])); p1.addProduct(w, Vector(repeating: xp[1 * cin]))
                p2.addProduct(w, Vector(repeating: xp[2 * cin])); p3.addProduct(w, Vector(repeating: xp[3 * cin]))
                wp += cout
                xp += 1
            }
            let first = j == 0
            flush16(p0, out, start, first: first); flush16(p1, out + 1 * cout, start, first: first)
            flush16(p2, out + 2 * cout, start, first: first); flush16(p3, out + 3 * cout, start, first: first)
        }
    }

    /// One frame, 16 channels: four taps side by side, joined in tap order.
    static func frame16(_ out: UnsafeMutablePointer<Float>, _ start: Start, _ x: Windows, _ offset: Int,
                        _ taps: Int, _ weights: UnsafePointer<Float>, _ cin: Int, _ cout: Int) {
        let tapWeights = cin * cout
        var j = 0
        while j + 4 <= taps {
            var p0 = Vector(), p1 = Vector(), p2 = Vector(), p3 = Vector()
            var xp = x[j] + offset
            let d1 = x[j].distance(to: x[j + 1]), d2 = x[j].distance(to: x[j + 2]), d3 = x[j].distance(to: x[j + 3])
            var wp = weights + j * tapWeights
            for _ in 0..<cin {
                p0.addProduct(load(wp), Vector(repeating: xp[0]))
                p1.addProduct(load(wp + tapWeights), Vector(repeating: xp[d1]))
                p2.addProduct(load(wp + 2 * tapWeights), Vector(repeating: xp[d2]))
                p3.addProduct(load(wp + 3 * tapWeights), Vector(repeating: xp[d3]))
                wp += cout
                xp += 1
            }
            flush16(p0, out, start, first: j == 0)
            flush16(p1, out, start, first: false)
            flush16(p2, out, start, first: false)
            flush16(p3, out, start, first: false)
            j += 4
        }
        while j < taps {
            var p = Vector()
            var xp = x[j] + offset
            var wp = weights + j * tapWeights
            for _ in 0..<cin {
                p.addProduct(load(wp), Vector(repeating: xp[0]))
                wp += cout
                xp += 1
            }
            flush16(p, out, start, first: j == 0)
            j += 1
        }
    }

    /// A single output channel (a network's output layer): per tap, a vector
    /// dot product across the inputs.
    static func dotProducts(into output: UnsafeMutablePointer<Float>, start: Start, windows: Windows,
                            taps: Int, weights: UnsafePointer<Float>, frames: Int, inChannels cin: Int) {
        for t in 0..<frames {
            var total = start.overwrite ? start.initial?[0] ?? 0 : output[t]
            for j in 0..<taps {
                let xp = windows[j] + t * cin, wp = weights + j * cin
                var p = Vector()
                var i = 0
                while i < cin {
                    p.addProduct(load(wp + i), load(xp + i))
                    i += 16
                }
                total += p.sum()
            }
            output[t] = total
        }
    }

    /// Any other width, one value at a time in the same order.
    static func scalar(into output: UnsafeMutablePointer<Float>, start: Start, windows: Windows,
                       taps: Int, weights: UnsafePointer<Float>, frames: Int, inChannels cin: Int,
                       outChannels cout: Int) {
        for t in 0..<frames {
            let dst = output + t * cout
            if start.overwrite {
                if let b = start.initial { dst.update(from: b, count: cout) } else { dst.update(repeating: 0, count: cout) }
            }
            for j in 0..<taps {
                let xp = windows[j] + t * cin, wp = weights + j * cin * cout
                for o in 0..<cout {
                    var p: Float = 0
                    for i in 0..<cin { p.addProduct(wp[i * cout + o], xp[i]) }
                    dst[o] += p
                }
            }
        }
    }
}
