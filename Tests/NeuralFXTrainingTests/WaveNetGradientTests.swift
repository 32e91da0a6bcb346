import XCTest
import NeuralFXCore
import NeuralFXTraining

/// The WaveNet's exact gradient against central finite differences in
/// double precision, every weight of small networks that together use every
/// part: two chained arrays, head bias or not, gated and every activation,
/// knob channels in the condition, kernel sizes 1 to 3, and 16 channels
/// (the vector kernels) and 8 (the narrow ones).
final class WaveNetGradientTests: XCTestCase {
    static let step = 1e-6
    static let absoluteTolerance = 1e-8
    static let relativeTolerance = 1e-5

    static func tiny(channels: (Int, Int) = (3, 2), kernel: Int = 2, activation: NAMActivation = .tanh, gated: Bool = false,
                     knobs: Int = 0) -> NAMWaveNetConfig {
        NAMWaveNetConfig(layerArrays: [
            NAMWaveNetLayerArrayConfig(inputSize: 1, conditionSize: 1 + knobs, headSize: channels.1, channels: channels.0,
                                       kernelSize: kernel, dilations: [1, 2], activation: activation, gated: gated, headBias: false),
            NAMWaveNetLayerArrayConfig(inputSize: channels.0, conditionSize: 1 + knobs, headSize: 1, channels: channels.1,
                                       kernelSize: kernel, dilations: [3, 1], activation: activation, gated: gated, headBias: true),
        ], head: nil)
    }

    /// Weights larger than the training start (and a head scale of 0.7), so
    /// every path carries a gradient well above rounding.
    static func network(_ config: NAMWaveNetConfig, seed: UInt64, batch: Int = 2, frames: Int = 5) -> WaveNetTrainingNetwork<Double> {
        var rng = SplitMix64(seed: seed)
        var weights = config.trainingStart(seed: seed, headScale: 0.7).map { Double($0) * 2.5 }
        weights[weights.count - 1] = 0.7
        let net = WaveNetTrainingNetwork<Double>(config: config, batchSize: batch, outputLength: frames, threads: 2, weights: weights)
        for b in 0..<batch {
            for t in 0..<net.inputLength { net.input(b)[t] = rng.nextGaussian() * 0.5 }
            for k in 0..<(config.layerArrays[0].conditionSize - 1) { net.knobs(b)[k] = rng.nextUnitDouble() }
        }
        return net
    }

    /// `allLive`: no unit is cut off on every frame (not so for ReLU's kin).
    func check(_ config: NAMWaveNetConfig, allLive: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        let net = Self.network(config, seed: 7)
        net.learnsHeadScale = true
        var rng = SplitMix64(seed: 99)
        let coefficients = (0..<net.batchSize).map { _ in (0..<net.outputLength).map { _ in rng.nextGaussian() } }
        // sum_b sum_t c[b][t] y[b][t]: its gradient with respect to the outputs is c.
        func objective() -> Double {
            net.forward()
            var total = 0.0
            for b in 0..<net.batchSize { for t in 0..<net.outputLength { total += coefficients[b][t] * net.output(b)[t] } }
            return total
        }
        _ = objective()
        for b in 0..<net.batchSize { for t in 0..<net.outputLength { net.outputGradient(b)[t] = coefficients[b][t] } }
        net.backward()
        let analytic = net.gradient
        XCTAssertEqual(analytic.count, config.weightCount, file: file, line: line)
        for i in 0..<net.parameters.count {
            let original = net.parameters[i]
            net.parameters[i] = original + Self.step
            let up = objective()
            net.parameters[i] = original - Self.step
            let down = objective()
            net.parameters[i] = original
            let numeric = (up - down) / (2 * Self.step)
            if abs(numeric - analytic[i]) > Self.absoluteTolerance + Self.relativeTolerance * abs(numeric) {
                XCTFail("weight \(i) of \(config.weightCount): analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
                return
            }
        }
        // Every weight but the last layer's 1x1 (whose output feeds nothing) moves the output.
        guard allLive else { return }
        let zero = analytic.indices.filter { analytic[$0] == 0 }.count
        let last = config.layerArrays.last!
        XCTAssertEqual(zero, last.channels * last.channels + last.channels, "weights with no gradient", file: file, line: line)
    }

    func testTanh() { check(Self.tiny()) }
    func testKernelThree() { check(Self.tiny(kernel: 3)) }
    func testPointwiseKernel() { check(Self.tiny(kernel: 1)) }
    func testGated() { check(Self.tiny(gated: true)) }
    func testGatedSigmoid() { check(Self.tiny(activation: .sigmoid, gated: true)) }
    func testSmoothActivations() {
        for a in [NAMActivation.sigmoid, .silu] { check(Self.tiny(activation: a)) }
    }
    func testPiecewiseActivations() {
        // Random values sit away from the kinks, so finite differences hold.
        for a in [NAMActivation.relu, .leakyReLU, .hardtanh, .hardswish] { check(Self.tiny(activation: a), allLive: false) }
    }
    func testKnobChannelsInTheCondition() { check(Self.tiny(knobs: 2)) }
    func testSixteenChannelsUseTheVectorKernels() { check(Self.tiny(channels: (16, 16), kernel: 3)) }
    /// As the standard preset: a 16-channel array, then an 8-channel one (8-lane kernels).
    func testEightChannelsUseTheNarrowVectorKernels() { check(Self.tiny(channels: (16, 8), kernel: 3)) }

    func testHeadScaleHeldFixedByDefault() {
        let net = Self.network(Self.tiny(), seed: 3)
        net.forward()
        for b in 0..<net.batchSize { for t in 0..<net.outputLength { net.outputGradient(b)[t] = 1 } }
        net.backward()
        XCTAssertEqual(net.gradient.last, 0)
        XCTAssertGreaterThan(net.gradient.dropLast().map(abs).max()!, 0)
    }

    func testGradientDoesNotDependOnThreadCount() {
        let config = WaveNetPreset.nano.config()
        func gradient(threads: Int) -> [Float] {
            let net = WaveNetTrainingNetwork<Float>(config: config, batchSize: 3, outputLength: 64, threads: threads,
                                                    weights: config.trainingStart(seed: 4))
            var rng = SplitMix64(seed: 1)
            for b in 0..<3 { for t in 0..<net.inputLength { net.input(b)[t] = rng.nextFloat(in: -1...1) } }
            net.forward()
            for b in 0..<3 { for t in 0..<64 { net.outputGradient(b)[t] = net.output(b)[t] } }
            net.backward()
            return net.gradient
        }
        XCTAssertEqual(gradient(threads: 1), gradient(threads: 2))
    }

    func testPresetsHaveNAMsWeightCounts() {
        // NAM's trainer reports 13,802 parameters for its standard WaveNet.
        XCTAssertEqual(WaveNetPreset.standard.config().weightCount, 13802)
        XCTAssertEqual(WaveNetPreset.standard.config().receptiveField, 4093)
        for p in WaveNetPreset.allCases {
            XCTAssertNil(WaveNetTrainingNetwork<Float>.problem(p.config()), p.rawValue)
            XCTAssertNil(p.config().inconsistency, p.rawValue)
        }
    }
}
