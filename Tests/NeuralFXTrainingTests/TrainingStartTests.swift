import XCTest
import NeuralFXCore
import NeuralFXTraining

/// Training starts from a network that already passes its input through.
final class TrainingStartTests: XCTestCase {
    func run(_ weights: MicroTCNWeights, _ x: [Float]) -> [Float] {
        let net = MicroTCN(weights)
        net.prepare(maxBlockSize: x.count)
        var knobs = [Float](repeating: 0.4, count: weights.config.nparams)
        net.setConditioning(&knobs)
        net.reset()
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { i in y.withUnsafeMutableBufferPointer { o in net.process(i.baseAddress!, o.baseAddress!, frameCount: x.count) } }
        return y
    }

    func signal(_ n: Int) -> [Float] {
        var rng = SplitMix64(seed: 11)
        return (0..<n).map { _ in rng.nextFloat(in: -0.5...0.5) }
    }

    func testWithQuietBranchesTheOutputIsTanhOfTheInput() {
        let x = signal(2000)
        for activation in ActivationKind.allCases {
            for nparams in [2, 0] {
                var config = MicroTCNConfig(nparams: nparams, nblocks: 3, kernelSize: 3, dilationGrowth: 4, channelWidth: 8,
                                            activation: activation)
                config.residualDelay = 0
                let y = run(.trainingStart(config, seed: 3, branchScale: 0), x)
                let worst = zip(x, y).map { abs(Float.tanh($0) - $1) }.max()!
                XCTAssertLessThan(worst, 1e-5, "\(activation), nparams \(nparams)")
            }
        }
    }

    func testMicroTCNResidualDelayGivesTheDelayedInput() {
        let x = signal(500)
        let config = MicroTCNConfig(nparams: 2, nblocks: 4, kernelSize: 3, dilationGrowth: 2, channelWidth: 8)
        let y = run(.trainingStart(config, seed: 3, branchScale: 0), x)
        for t in 4..<x.count { XCTAssertEqual(y[t], Float.tanh(x[t - 4]), accuracy: 1e-5) }
    }

    func testDefaultStartIsCloseToTheIdentityButNotExactly() {
        let x = signal(4000)
        var config = MicroTCNConfig.named("utcn-100-c", nparams: 2)!
        config.residualDelay = 0
        let y = run(.trainingStart(config, seed: 1), x)
        let error = zip(x, y).reduce(0) { $0 + Double(Float.tanh($1.0) - $1.1) * Double(Float.tanh($1.0) - $1.1) }
        let energy = x.reduce(0) { $0 + Double(Float.tanh($1)) * Double(Float.tanh($1)) }
        XCTAssertLessThan(error / energy, 0.05)
        XCTAssertGreaterThan(error / energy, 1e-8, "the branches must start alive, or no gradient reaches the convolutions")
    }
}
