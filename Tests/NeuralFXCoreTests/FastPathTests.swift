import XCTest
import NeuralFXCore

/// The vectorized paths (register-blocked convolution tiles, sixteen-lane
/// activations) against the plain definitions.
extension CausalConv1dTests {
    /// Widths that take the 32-channel tiles, the 16-channel tiles (alone or
    /// as a remainder), the single-output dot product and the scalar
    /// fallback; random blocks of up to 37 frames reach the 24-, 12-, 4-frame
    /// and single-frame kernels.
    func testVectorizedWidthsMatchDefinition() {
        check(cin: 32, cout: 64, k: 5, d: 3, groups: 1, bias: true, seed: 11)
        check(cin: 16, cout: 48, k: 3, d: 1, groups: 1, bias: false, seed: 12)
        check(cin: 1, cout: 32, k: 13, d: 1, groups: 1, bias: false, seed: 13)
        check(cin: 7, cout: 16, k: 2, d: 9, groups: 1, bias: true, seed: 14)
        check(cin: 16, cout: 16, k: 13, d: 10, groups: 1, bias: true, seed: 17)
        check(cin: 32, cout: 1, k: 3, d: 2, groups: 1, bias: true, seed: 15)
        check(cin: 5, cout: 20, k: 4, d: 2, groups: 1, bias: false, seed: 16)
    }

    /// Short blocks of a dilated layer take the older taps' sums from a batch
    /// made ahead; the result must equal whole-signal processing bit for bit,
    /// for the tiled (32, 16), dot-product (1) and scalar (20) output widths,
    /// lookaheads of 4 to 16 frames, and blocks that straddle batches or are
    /// long enough to bypass them.
    func testShortBlocksSummedAheadAreBitIdentical() {
        for (cin, cout, k, d) in [(32, 32, 13, 10), (16, 16, 5, 100), (32, 1, 3, 4), (5, 20, 4, 7), (32, 32, 2, 16)] {
            var rng = SplitMix64(seed: UInt64(cin * 1000 + cout * 10 + d))
            let w = (0..<(cout * cin * k)).map { _ in rng.nextFloat(in: -1...1) }
            let b = (0..<cout).map { _ in rng.nextFloat(in: -1...1) }
            let frames = 3 * (k - 1) * d + 200
            let x = (0..<(frames * cin)).map { _ in rng.nextFloat(in: -1...1) }
            func run(blocks: [Int], maxBlock: Int) -> [Float] {
                let conv = CausalConv1d(inChannels: cin, outChannels: cout, kernelSize: k, dilation: d, weights: w, bias: b)
                conv.prepare(maxBlockSize: maxBlock)
                conv.reset()
                var y = [Float](repeating: 0, count: frames * cout)
                var at = 0
                for len in blocks {
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            conv.process(xp.baseAddress! + at * cin, frames: len, into: yp.baseAddress! + at * cout)
                        }
                    }
                    at += len
                }
                return y
            }
            let whole = run(blocks: [frames], maxBlock: frames)
            let lookahead = CausalConv1d(inChannels: cin, outChannels: cout, kernelSize: k, dilation: d, weights: w).lookahead
            // Up to 16 frames as the dilation allows, fewer where the tiles
            // would leave single frames (10 with 12-frame tiles: 8).
            XCTAssertLessThanOrEqual(lookahead, min(d, 16))
            XCTAssertGreaterThanOrEqual(lookahead, 4)
            if d >= 16 { XCTAssertEqual(lookahead, 16) }
            let single = run(blocks: [Int](repeating: 1, count: frames), maxBlock: 1)
            XCTAssertEqual(maxAbsDifference(single, whole), 0, "one frame at a time, \(cin)->\(cout) k \(k) d \(d)")
            let mixed = run(blocks: randomBlocks(total: frames, maxBlock: 2 * lookahead, seed: UInt64(d)), maxBlock: 2 * lookahead)
            XCTAssertEqual(maxAbsDifference(mixed, whole), 0, "mixed blocks, \(cin)->\(cout) k \(k) d \(d)")
        }
    }
}

extension MicroTCNStreamingTests {
    /// Every convolution kernel sums in the same order, so streaming in any
    /// block sizes gives exactly the whole-signal output, not just closely.
    func testStreamingIsBitIdenticalToWholeSignal() {
        // 16 and 48 channels run the 16-channel tiles; at 48, blocks of 48
        // frames or more split the taps into passes.
        for (name, width) in [("utcn-300-c", 32), ("tcn-324", 32), ("utcn-300-c", 16), ("utcn-100-c", 48)] {
            var config = MicroTCNConfig.named(name, nparams: 2)!
            config.channelWidth = width
            let weights = MicroTCNWeights.random(config, seed: 21)
            let x = testSignal(2500, seed: 4)
            let whole = weights.makeNetwork()
            whole.prepare(maxBlockSize: x.count)
            whole.setConditioning([0.7, 0.1])
            let reference = stream(whole, x, blocks: [x.count])
            for maxBlock in [1, 13, 100] {
                let net = weights.makeNetwork()
                net.prepare(maxBlockSize: maxBlock)
                net.setConditioning([0.7, 0.1])
                let y = stream(net, x, blocks: randomBlocks(total: x.count, maxBlock: maxBlock, seed: UInt64(maxBlock)))
                XCTAssertEqual(maxAbsDifference(y, reference), 0, "\(name) at \(width) channels, max block \(maxBlock)")
            }
        }
    }
}

extension ActivationTests {
    /// The sixteen-lane forms equal the scalar definitions bit for bit,
    /// including signed zeros, infinities, NaN and subnormals.
    func testVectorFormsAreExact() {
        var rng = SplitMix64(seed: 3)
        var values: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                               -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        while values.count % 16 != 0 || values.count < 256 { values.append(rng.nextFloat(in: -10...10)) }
        let slopes = (0..<16).map { _ in rng.nextFloat(in: -1...1) }
        let slope = SIMD16<Float>(slopes)
        for start in stride(from: 0, to: values.count, by: 16) {
            let x = SIMD16<Float>(values[start..<(start + 16)])
            let prelu = Activation.prelu(x, slope: slope), relu = Activation.relu(x)
            for lane in 0..<16 {
                let p = Activation.apply(.prelu, x[lane], parameter: slopes[lane])
                let r = Activation.apply(.relu, x[lane], parameter: 0)
                XCTAssertEqual(prelu[lane].bitPattern, p.bitPattern, "prelu(\(x[lane]))")
                XCTAssertEqual(relu[lane].bitPattern, r.bitPattern, "relu(\(x[lane]))")
            }
        }
        XCTAssertTrue(Activation.hasExactVectorForm(.prelu))
        XCTAssertFalse(Activation.hasExactVectorForm(.tanh))
    }
}

extension ActivationTests {
    /// The stated error bounds of the fast forms, over a dense grid.
    func testFastFormsStayWithinTheirBounds() {
        var worstTanh: Float = 0, worstTanhRelative: Float = 0, worstSigmoid: Float = 0
        var x: Float = -30
        while x < 30 {
            let lanes = SIMD16<Float>((0..<16).map { x + Float($0) * 1e-4 })
            let t = Activation.fastTanh(lanes), s = Activation.fastSigmoid(lanes)
            for lane in 0..<16 {
                let exactT = Activation.apply(.tanh, lanes[lane], parameter: 0)
                let errorT = abs(t[lane] - exactT)
                worstTanh = max(worstTanh, errorT)
                if exactT != 0 { worstTanhRelative = max(worstTanhRelative, errorT / abs(exactT)) }
                worstSigmoid = max(worstSigmoid, abs(s[lane] - Activation.sigmoid(lanes[lane])))
            }
            x += abs(x) < 2 ? 0.0037 : 0.071
        }
        XCTAssertLessThan(worstTanh, 2e-7)
        XCTAssertLessThan(worstTanhRelative, 1e-6)
        XCTAssertLessThan(worstSigmoid, 2e-7)
        // Tiny inputs keep their relative accuracy; huge ones saturate.
        XCTAssertEqual(Activation.fastTanh(SIMD16(repeating: 1e-20))[0], 1e-20)
        XCTAssertEqual(Activation.fastTanh(SIMD16(repeating: -200))[0], -1)
        XCTAssertEqual(Activation.fastSigmoid(SIMD16(repeating: 200))[0], 1)
        XCTAssertEqual(Activation.fastSigmoid(SIMD16(repeating: -200))[0], 0, accuracy: 1e-30)
    }

    /// Everything `applyFast` computes agrees with the exact `apply`.
    func testApplyFastAgreesWithApply() {
        var rng = SplitMix64(seed: 8)
        for kind in ActivationKind.allCases {
            for channels in [5, 16, 37] {
                let frames = 9
                let inputs = frames * channels * kind.inputChannelsPerOutput
                let x = (0..<inputs).map { _ in rng.nextFloat(in: -6...6) }
                let parameters = (0..<channels).map { _ in rng.nextFloat(in: 0.2...1.5) }
                var exact = [Float](repeating: 0, count: frames * channels), fast = exact
                Activation.apply(kind, input: x, output: &exact, frames: frames, channels: channels, parameters: parameters)
                Activation.applyFast(kind, input: x, output: &fast, frames: frames, channels: channels, parameters: parameters)
                XCTAssertLessThan(maxAbsDifference(exact, fast), 4e-7, "\(kind), \(channels) channels")
            }
        }
    }
}
