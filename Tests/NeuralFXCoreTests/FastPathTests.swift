import XCTest
import NeuralFXCore

/// The vectorized paths (register-blocked convolution tiles, sixteen-lane
/// activations) against the plain definitions.
extension CausalConv1dTests {
    /// Widths that take the 32-channel tiles, a 16-channel remainder, the
    /// single-output dot product and the scalar fallback; random blocks of up
    /// to 37 frames reach the 12-frame, 4-frame and single-frame kernels.
    func testVectorizedWidthsMatchDefinition() {
        check(cin: 32, cout: 64, k: 5, d: 3, groups: 1, bias: true, seed: 11)
        check(cin: 16, cout: 48, k: 3, d: 1, groups: 1, bias: false, seed: 12)
        check(cin: 1, cout: 32, k: 13, d: 1, groups: 1, bias: false, seed: 13)
        check(cin: 7, cout: 16, k: 2, d: 9, groups: 1, bias: true, seed: 14)
        check(cin: 32, cout: 1, k: 3, d: 2, groups: 1, bias: true, seed: 15)
        check(cin: 5, cout: 20, k: 4, d: 2, groups: 1, bias: false, seed: 16)
    }
}

extension MicroTCNStreamingTests {
    /// Every convolution kernel sums in the same order, so streaming in any
    /// block sizes gives exactly the whole-signal output, not just closely.
    func testStreamingIsBitIdenticalToWholeSignal() {
        for name in ["utcn-300-c", "tcn-324"] {
            let weights = MicroTCNWeights.random(MicroTCNConfig.named(name, nparams: 2)!, seed: 21)
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
                XCTAssertEqual(maxAbsDifference(y, reference), 0, "\(name), max block \(maxBlock)")
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
