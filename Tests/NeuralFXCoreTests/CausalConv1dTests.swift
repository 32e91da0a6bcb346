import XCTest
import NeuralFXCore

final class CausalConv1dTests: XCTestCase {
    /// Direct evaluation of the definition, with zeros before the start.
    func reference(x: [Float], cin: Int, cout: Int, k: Int, d: Int, groups: Int, w: [Float], bias: [Float]?) -> [Float] {
        let frames = x.count / cin
        var y = [Float](repeating: 0, count: frames * cout)
        let ipg = cin / groups, opg = cout / groups
        for t in 0..<frames {
            for o in 0..<cout {
                var acc = bias?[o] ?? 0
                let g = o / opg
                for i in 0..<ipg {
                    for j in 0..<k {
                        let src = t - (k - 1 - j) * d
                        if src >= 0 { acc += w[(o * ipg + i) * k + j] * x[src * cin + g * ipg + i] }
                    }
                }
                y[t * cout + o] = acc
            }
        }
        return y
    }

    func check(cin: Int, cout: Int, k: Int, d: Int, groups: Int, bias: Bool, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let w = (0..<(cout * cin / groups * k)).map { _ in rng.nextFloat(in: -1...1) }
        let b: [Float]? = bias ? (0..<cout).map { _ in rng.nextFloat(in: -1...1) } : nil
        let frames = 300
        let x = (0..<(frames * cin)).map { _ in rng.nextFloat(in: -1...1) }
        let expected = reference(x: x, cin: cin, cout: cout, k: k, d: d, groups: groups, w: w, bias: b)
        let conv = CausalConv1d(inChannels: cin, outChannels: cout, kernelSize: k, dilation: d, groups: groups,
                                weights: w, bias: b)
        conv.prepare(maxBlockSize: 37)
        conv.reset()
        var y = [Float](repeating: 0, count: frames * cout)
        var at = 0
        for len in randomBlocks(total: frames, maxBlock: 37, seed: seed) {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    conv.process(xp.baseAddress! + at * cin, frames: len, into: yp.baseAddress! + at * cout)
                }
            }
            at += len
        }
        XCTAssertLessThan(maxAbsDifference(y, expected), 1e-4, "cin \(cin) cout \(cout) k \(k) d \(d) groups \(groups)")
    }

    func testDenseDilatedMatchesDefinition() {
        check(cin: 1, cout: 8, k: 3, d: 1, groups: 1, bias: false, seed: 1)
        check(cin: 4, cout: 6, k: 5, d: 7, groups: 1, bias: true, seed: 2)
        check(cin: 32, cout: 32, k: 13, d: 10, groups: 1, bias: false, seed: 3)
        check(cin: 3, cout: 2, k: 1, d: 1, groups: 1, bias: true, seed: 4)
    }

    func testGroupedAndDepthwiseMatchDefinition() {
        check(cin: 8, cout: 8, k: 3, d: 2, groups: 8, bias: false, seed: 5)
        check(cin: 8, cout: 4, k: 4, d: 3, groups: 2, bias: true, seed: 6)
        check(cin: 2, cout: 6, k: 2, d: 50, groups: 2, bias: false, seed: 7)
    }

    func testSteadyOutputIsTheLimitOfAConstantInput() {
        var rng = SplitMix64(seed: 9)
        let w = (0..<(3 * 2 * 4)).map { _ in rng.nextFloat(in: -1...1) }
        let conv = CausalConv1d(inChannels: 2, outChannels: 3, kernelSize: 4, dilation: 3, weights: w, bias: [0.1, 0.2, 0.3])
        conv.prepare(maxBlockSize: 64)
        conv.reset()
        let frame: [Float] = [0.5, -0.25]
        let x = (0..<64).flatMap { _ in frame }
        var y = [Float](repeating: 0, count: 64 * 3)
        conv.process(x, frames: 64, into: &y)
        var steady = [Float](repeating: 0, count: 3)
        conv.steadyOutput(for: frame, into: &steady)
        for o in 0..<3 { XCTAssertEqual(y[63 * 3 + o], steady[o], accuracy: 1e-5) }
    }

    /// The history is kept once, not rounded up or mirrored: uTCN-300-C's
    /// widest layer (dilation 1000) must stay within this machine's L2 cache.
    func testStateHoldsTheHistoryOnceAndOneBlockTwice() {
        let conv = CausalConv1d(inChannels: 32, outChannels: 32, kernelSize: 13, dilation: 1000,
                                weights: [Float](repeating: 0, count: 32 * 32 * 13))
        conv.prepare(maxBlockSize: 64, extraHistory: 1)
        XCTAssertEqual(conv.stateBytes, (12_000 + 1 + 2 * 64) * 32 * 4)
    }
}

final class PointwiseConvTests: XCTestCase {
    func testGroupedMatchesDefinition() {
        var rng = SplitMix64(seed: 11)
        for (cin, cout, groups) in [(4, 6, 1), (8, 8, 8), (6, 4, 2), (2, 8, 2)] {
            let w = (0..<(cout * cin / groups)).map { _ in rng.nextFloat(in: -1...1) }
            let b = (0..<cout).map { _ in rng.nextFloat(in: -1...1) }
            let conv = PointwiseConv(inChannels: cin, outChannels: cout, groups: groups, weights: w, bias: b)
            let frames = 5
            let x = (0..<(frames * cin)).map { _ in rng.nextFloat(in: -1...1) }
            var y = [Float](repeating: 0, count: frames * cout)
            conv.apply(x, frames: frames, into: &y)
            let ipg = cin / groups, opg = cout / groups
            for t in 0..<frames {
                for o in 0..<cout {
                    var acc = b[o]
                    for i in 0..<ipg { acc += w[o * ipg + i] * x[t * cin + (o / opg) * ipg + i] }
                    XCTAssertEqual(y[t * cout + o], acc, accuracy: 1e-5)
                }
            }
        }
    }
}
