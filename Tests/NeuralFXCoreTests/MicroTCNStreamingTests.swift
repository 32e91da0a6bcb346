import XCTest
import NeuralFXCore

final class MicroTCNStreamingTests: XCTestCase {
    /// Any sequence of block sizes, including 1, gives the whole-signal output.
    func testEveryNamedConfigurationStreamsExactly() {
        // Each named configuration as micro-tcn has it, and utcn-300-c with
        // the residual aligned (residual_delay 0), as fxtrain trains it.
        let cases = MicroTCNConfig.namedConfigurations.map { ($0, 1) } + [("utcn-300-c", 0)]
        for (i, (name, residualDelay)) in cases.enumerated() {
            var config = MicroTCNConfig.named(name, nparams: 2)!
            config.residualDelay = residualDelay
            let weights = MicroTCNWeights.random(config, seed: UInt64(100 + i))
            let x = testSignal(3000, seed: UInt64(i))
            let whole = weights.makeNetwork()
            whole.prepare(maxBlockSize: x.count)
            whole.setConditioning([0.3, 0.8])
            let reference = stream(whole, x, blocks: [x.count])
            XCTAssertGreaterThan(reference.map(abs).max()!, 1e-3, "\(name) output is silent; the test would prove nothing")
            for trial in 0..<3 {
                let maxBlock = [1, 64, 517][trial]
                let streamed = weights.makeNetwork()
                streamed.prepare(maxBlockSize: maxBlock)
                streamed.setConditioning([0.3, 0.8])
                let y = stream(streamed, x, blocks: randomBlocks(total: x.count, maxBlock: maxBlock, seed: UInt64(trial)))
                XCTAssertLessThan(maxAbsDifference(y, reference), 1e-6, "\(name) residual delay \(residualDelay), max block \(maxBlock)")
            }
        }
    }

    func testResetReturnsToTheFreshState() {
        let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 5)
        let net = weights.makeNetwork()
        net.prepare(maxBlockSize: 256)
        net.setConditioning([1, 0.2])
        net.reset()
        let x = testSignal(1024)
        let first = stream(net, x, blocks: [256, 256, 256, 256])
        _ = stream(net, testSignal(999, seed: 3), blocks: [256, 256, 256, 231])
        net.reset()
        let again = stream(net, x, blocks: [256, 256, 256, 256])
        XCTAssertEqual(maxAbsDifference(first, again), 0)
    }

    /// A reset network holds the state of one that heard silence forever, so
    /// silence in gives a constant out from the first sample (no start-up transient).
    func testSilenceGivesItsSteadyOutputFromTheFirstSample() {
        let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-300-c", nparams: 2)!, seed: 8)
        let net = weights.makeNetwork()
        net.prepare(maxBlockSize: 512)
        net.setConditioning([0, 0.5])
        // The silent state depends on the conditioning, so reset after setting it.
        net.reset()
        let y = stream(net, [Float](repeating: 0, count: 20000), blocks: [Int](repeating: 500, count: 40))
        XCTAssertLessThan(y.map { abs($0 - y[0]) }.max()!, 1e-6)
    }

    func testReceptiveFieldsOfThePaper() {
        XCTAssertEqual(MicroTCNConfig.named("utcn-100-c", nparams: 2)!.receptiveField, 4445)
        XCTAssertEqual(MicroTCNConfig.named("utcn-300-c", nparams: 2)!.receptiveField, 13333)
        XCTAssertEqual(MicroTCNConfig.named("utcn-1000-c", nparams: 2)!.receptiveField, 44445)
        XCTAssertEqual(MicroTCNConfig.named("tcn-324", nparams: 2)!.receptiveField, 14323)
        // 3 x (32 x 32 x 13) + 32 x 13 plus the per-channel work: about 40.5k per sample.
        let macs = MicroTCNConfig.named("utcn-300-c", nparams: 2)!.multiplyAddsPerSample
        XCTAssertEqual(Double(macs), 40_500, accuracy: 600)
    }

    func testOutputDependsOnlyOnThePast() {
        let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 12)
        var x = testSignal(2000)
        let net = weights.makeNetwork()
        net.prepare(maxBlockSize: 2000)
        net.setConditioning([0.5, 0.5])
        net.reset()
        let a = stream(net, x, blocks: [2000])
        for i in 1500..<2000 { x[i] = -x[i] * 3 }
        net.reset()
        let b = stream(net, x, blocks: [2000])
        XCTAssertEqual(maxAbsDifference(Array(a[..<1500]), Array(b[..<1500])), 0)
        XCTAssertNotEqual(a[1500], b[1500])
    }
}
