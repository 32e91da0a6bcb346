import XCTest
import NeuralFXCore
import NeuralFXTraining

/// Every trainable layer's exact gradient against central finite differences
/// in double precision, through whole micro-tcn networks whose
/// configurations together use every layer and activation.
final class GradientCheckTests: XCTestCase {
    static let step = 1e-6
    static let absoluteTolerance = 1e-8
    static let relativeTolerance = 1e-5

    /// Small networks with non-trivial values everywhere.
    func network(_ config: MicroTCNConfig, seed: UInt64, batch: Int = 3, frames: Int = 6, warmup: Int = 0) -> TrainingNetwork<Double> {
        var weights = MicroTCNWeights.random(config, seed: seed)
        var rng = SplitMix64(seed: seed ^ 0xABCD)
        // Time constants of a few samples, so that envelopes move within these short inputs.
        weights.envelope?.logTimeConstants = (0..<config.envelopes).map { _ in rng.nextFloat(in: 0.5...3.5) }
        // The same for the gain computer, with its threshold (-20 dB) below
        // these inputs' level and a knee (6 dB) they cross.
        if var gain = weights.gainComputer {
            typealias P = GainComputer.Parameter
            let start: [P: ClosedRange<Float>] = [.detector: 0.5...1.5, .threshold: -1.1 ... -0.9, .slope: -0.5...0.5,
                                                  .knee: -0.6 ... -0.4, .attack: 0.5...1.5, .fastRelease: 1.5...2.5,
                                                  .slowRelease: 2.5...3.5, .slowShare: -0.5...0.5,
                                                  .detectorRelease: 1.0...2.0, .slowReleaseGrowth: 1.5...2.5,
                                                  .memoryScale: 0.9...1.1, .memoryCharge: 0.5...1.5, .memoryDecay: 1.5...2.5]
            gain.knobBias = P.allCases.prefix(gain.knobBias.count).map { rng.nextFloat(in: start[$0]!) }
            gain.knobWeight = gain.knobWeight.map { _ in rng.nextFloat(in: -0.3...0.3) }
            weights.gainComputer = gain
        }
        for n in weights.blocks.indices {
            if let p = weights.blocks[n].activationParameters {
                weights.blocks[n].activationParameters = p.map { _ in
                    config.activation == .snake ? rng.nextFloat(in: 0.5...1.5) : rng.nextFloat(in: -0.3...0.6)
                }
            }
            weights.blocks[n].residual = weights.blocks[n].residual.map { _ in rng.nextFloat(in: -1...1) }
            weights.blocks[n].batchNormWeight = weights.blocks[n].batchNormWeight?.map { _ in rng.nextFloat(in: 0.5...1.5) }
            weights.blocks[n].batchNormBias = weights.blocks[n].batchNormBias?.map { _ in rng.nextFloat(in: -0.5...0.5) }
        }
        let net = TrainingNetwork<Double>(config: config, batchSize: batch, outputLength: frames, threads: 2, weights: weights,
                                          warmup: warmup)
        for b in 0..<batch {
            for t in 0..<net.inputLength { net.input(b)[t] = rng.nextGaussian() * 0.5 }
            for k in 0..<config.nparams { net.knobs(b)[k] = rng.nextUnitDouble() }
        }
        return net
    }

    /// `sum_b sum_t c[b][t] y[b][t]` for fixed random `c`: its gradient
    /// with respect to the outputs is `c`.
    func check(_ config: MicroTCNConfig, normalization: Normalization = .batch, warmup: Int = 0,
               file: StaticString = #filePath, line: UInt = #line) {
        let net = network(config, seed: 7, warmup: warmup)
        net.normalization = normalization
        if normalization == .fixed {
            // Statistics away from their start, so the fixed path really scales and shifts.
            var rng = SplitMix64(seed: 5)
            for n in net.runningMean.indices {
                net.runningMean[n] = net.runningMean[n].map { _ in rng.nextGaussian() * 0.3 }
                net.runningVariance[n] = net.runningVariance[n].map { _ in 0.5 + rng.nextUnitDouble() }
            }
        }
        var rng = SplitMix64(seed: 99)
        let weights = (0..<net.batchSize).map { _ in (0..<net.outputLength).map { _ in rng.nextGaussian() } }
        func objective() -> Double {
            net.forward(updateRunningStatistics: false)
            var total = 0.0
            for b in 0..<net.batchSize { for t in 0..<net.outputLength { total += weights[b][t] * net.output(b)[t] } }
            return total
        }
        _ = objective()
        for b in 0..<net.batchSize { for t in 0..<net.outputLength { net.outputGradient(b)[t] = weights[b][t] } }
        net.backward()
        let analytic = net.gradient
        XCTAssertEqual(analytic.count, net.layout.count)
        var worst = 0.0, checked = 0
        for i in 0..<net.parameters.count {
            let original = net.parameters[i]
            net.parameters[i] = original + Self.step
            let up = objective()
            net.parameters[i] = original - Self.step
            let down = objective()
            net.parameters[i] = original
            let numeric = (up - down) / (2 * Self.step)
            let error = abs(numeric - analytic[i])
            worst = max(worst, error / max(abs(numeric), 1e-3))
            checked += 1
            if error > Self.absoluteTolerance + Self.relativeTolerance * abs(numeric) {
                XCTFail("\(config.activation) parameter \(parameterName(net.layout, i)): analytic \(analytic[i]) numeric \(numeric)",
                        file: file, line: line)
                return
            }
        }
        XCTAssertEqual(checked, net.layout.count, file: file, line: line)
        XCTAssertGreaterThan(analytic.map(abs).max()!, 0, file: file, line: line)
    }

    func parameterName(_ layout: ParameterLayout, _ index: Int) -> String {
        let owner = layout.names.last { layout.offset($0) <= index }!
        return "\(owner)[\(index - layout.offset(owner))]"
    }

    func small(_ activation: ActivationKind, nparams: Int = 2) -> MicroTCNConfig {
        MicroTCNConfig(nparams: nparams, nblocks: 3, kernelSize: 3, dilationGrowth: 2, channelWidth: 4, activation: activation)
    }

    func testConditionedPReLU() { check(small(.prelu)) }
    func testUnconditionedPReLUWithBatchNormAffine() { check(small(.prelu, nparams: 0)) }
    func testReLU() { check(small(.relu)) }
    func testTanh() { check(small(.tanh)) }
    func testSigmoid() { check(small(.sigmoid)) }
    func testSiLU() { check(small(.silu)) }
    func testGELU() { check(small(.gelu)) }
    func testSnakeIncludingAlpha() { check(small(.snake)) }
    func testGatedUnit() { check(small(.gated)) }
    func testIdentity() { check(small(.identity)) }

    func testFixedNormalization() {
        check(small(.prelu), normalization: .fixed)
        check(small(.gated, nparams: 0), normalization: .fixed)
    }

    /// The envelopes' time constants and projection, through the reverse
    /// scan over the warm-up and the chunk.
    func testEnvelopes() {
        var c = small(.prelu)
        c.envelopeChannels = 3
        check(c, warmup: 0)
        check(c, warmup: 25)
        c.nparams = 0
        check(c, normalization: .fixed, warmup: 10)
    }

    /// The gain computer's knob map, through the reverse scan over its
    /// ballistics, knee and detector, with and without a warm-up and knobs.
    func testGainComputer() {
        var c = small(.prelu)
        c.gainComputer = true
        check(c, warmup: 0)
        check(c, warmup: 25)
        c.nparams = 0
        check(c, normalization: .fixed, warmup: 10)
    }

    /// The same with feedback: the scan also carries the detector's adjoint
    /// back into the previous sample's reduction.
    func testFeedbackGainComputer() {
        var c = small(.prelu)
        c.gainComputer = true
        c.gainFeedback = true
        check(c, warmup: 0)
        check(c, warmup: 25)
        c.nparams = 0
        check(c, normalization: .fixed, warmup: 10)
    }

    /// The optical cell, with and without feedback: the scan also carries
    /// the memory's adjoint and the peak detector's two coefficients.
    func testOpticalCellGainComputer() {
        var c = small(.prelu)
        c.gainComputer = true
        c.gainCell = true
        check(c, warmup: 25)
        c.gainFeedback = true
        check(c, warmup: 0)
        check(c, warmup: 25)
        c.nparams = 0
        check(c, normalization: .fixed, warmup: 10)
    }

    /// What the warm-up holds changes the output (so the check above goes
    /// through it), and only through the envelopes.
    func testWarmUpReachesTheOutputThroughTheEnvelopesOnly() {
        var c = small(.prelu)
        c.envelopeChannels = 3
        let net = network(c, seed: 3, warmup: 25)
        net.forward(updateRunningStatistics: false)
        let before = (0..<net.outputLength).map { net.output(0)[$0] }
        for t in 0..<net.warmup { net.input(0)[t] *= 3 }
        net.forward(updateRunningStatistics: false)
        let after = (0..<net.outputLength).map { net.output(0)[$0] }
        XCTAssertGreaterThan(zip(before, after).map { abs($0 - $1) }.max()!, 1e-6)
        XCTAssertEqual(net.inputLength, 25 + net.outputLength + c.receptiveField - 1)
    }

    func testAlignedResidual() {
        var c = small(.prelu)
        c.residualDelay = 0
        check(c)
    }

    func testGroupedDepthwiseConvolutionAndPointwise() {
        var c = small(.prelu)
        c.grouped = true
        XCTAssertEqual(c.convGroups(ofBlock: 1), 4, "blocks after the first are depthwise")
        check(c)
    }

    func testWideChannelsUseTheVectorKernels() {
        // 16 channels take the register-blocked convolution kernels.
        check(MicroTCNConfig(nparams: 1, nblocks: 2, kernelSize: 2, dilationGrowth: 3, channelWidth: 16, activation: .prelu))
    }

    func testThirtyTwoChannelsUseTheWideTiles() {
        // 32 channels take the 6-frame tiles of two vectors; 6 output frames
        // at dilation 16 leave input frames that only some taps reach.
        check(MicroTCNConfig(nparams: 1, nblocks: 3, kernelSize: 3, dilationGrowth: 4, channelWidth: 32, activation: .prelu))
    }

    /// Single precision (what training runs) against double on a network
    /// whose last dilation exceeds its output length, so most input frames
    /// are reached by only some taps: every kernel path at once.
    func testSinglePrecisionFollowsDoubleThroughLongDilations() {
        let config = MicroTCNConfig(nparams: 1, nblocks: 3, kernelSize: 5, dilationGrowth: 10, channelWidth: 32, activation: .prelu)
        let weights = MicroTCNWeights.random(config, seed: 3)
        func gradient<T: TrainingScalar>(_: T.Type) -> [Double] {
            let net = TrainingNetwork<T>(config: config, batchSize: 2, outputLength: 37, threads: 1, weights: weights)
            var rng = SplitMix64(seed: 4)
            for b in 0..<2 {
                for t in 0..<net.inputLength { net.input(b)[t] = T(rng.nextGaussian() * 0.5) }
                net.knobs(b)[0] = T(rng.nextUnitDouble())
            }
            net.forward()
            for b in 0..<2 { for t in 0..<37 { net.outputGradient(b)[t] = T(Double(t % 7) - 3) } }
            net.backward()
            return net.gradient.map { Double($0) }
        }
        let single = gradient(Float.self), double = gradient(Double.self)
        let scale = double.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        for i in double.indices where abs(single[i] - double[i]) > 1e-4 * scale {
            XCTFail("parameter \(i): single \(single[i]) double \(double[i])")
            return
        }
    }

    func testChannelGrowth() {
        var c = small(.tanh)
        c.channelGrowth = 2
        check(c)
    }

    func testTrainingForwardMatchesStreamingInference() {
        // With the running statistics set to the batch statistics, training
        // mode and the streaming engine compute the same function.
        for residualDelay in [1, 0] {
            var config = MicroTCNConfig(nparams: 2, nblocks: 3, kernelSize: 3, dilationGrowth: 3, channelWidth: 6)
            config.residualDelay = residualDelay
            checkTrainingForwardMatchesStreaming(config)
        }
        var config = MicroTCNConfig(nparams: 2, nblocks: 3, kernelSize: 3, dilationGrowth: 3, channelWidth: 6)
        config.gainComputer = true
        checkTrainingForwardMatchesStreaming(config)
        config.gainFeedback = true
        checkTrainingForwardMatchesStreaming(config)
        config.gainCell = true
        checkTrainingForwardMatchesStreaming(config)
    }

    func checkTrainingForwardMatchesStreaming(_ config: MicroTCNConfig) {
        let net = network(config, seed: 3, batch: 2, frames: 40)
        net.forward(updateRunningStatistics: false)
        for n in 0..<config.nblocks {
            let s = net.batchStatistics(n)
            net.runningMean[n] = s.mean
            net.runningVariance[n] = s.variance
        }
        let model = MicroTCN(net.weights)
        model.prepare(maxBlockSize: 17)
        for b in 0..<net.batchSize {
            var knobs = (0..<config.nparams).map { Float(net.knobs(b)[$0]) }
            model.setConditioning(&knobs)
            model.reset()
            let input = (0..<net.inputLength).map { Float(net.input(b)[$0]) }
            var out = [Float](repeating: 0, count: input.count)
            var start = 0
            while start < input.count {
                let n = min(17, input.count - start)
                input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                    model.process(i.baseAddress! + start, o.baseAddress! + start, frameCount: n)
                } }
                start += n
            }
            for t in 0..<net.outputLength {
                XCTAssertEqual(Double(out[t + config.receptiveField - 1]), net.output(b)[t], accuracy: 1e-4,
                               "residual delay \(config.residualDelay) item \(b) frame \(t)")
            }
        }
    }

    func testRunningStatisticsFollowPyTorch() {
        let config = small(.prelu)
        let net = network(config, seed: 5, batch: 2, frames: 9)
        let before = (net.runningMean, net.runningVariance)
        net.forward()
        for n in 0..<config.nblocks {
            let s = net.batchStatistics(n)
            let count = Double(net.batchSize * (9 + (0..<config.nblocks).filter { $0 > n }.reduce(0) { $0 + 2 * config.dilation(ofBlock: $1) }))
            for c in s.mean.indices {
                XCTAssertEqual(net.runningMean[n][c], 0.9 * before.0[n][c] + 0.1 * s.mean[c], accuracy: 1e-12)
                XCTAssertEqual(net.runningVariance[n][c], 0.9 * before.1[n][c] + 0.1 * s.variance[c] * count / (count - 1),
                               accuracy: 1e-9)
            }
        }
    }

    func testGradientDoesNotDependOnThreadCount() {
        let config = small(.prelu)
        func gradient(threads: Int) -> [Float] {
            let weights = MicroTCNWeights.random(config, seed: 11)
            let net = TrainingNetwork<Float>(config: config, batchSize: 5, outputLength: 30, threads: threads, weights: weights)
            var rng = SplitMix64(seed: 1)
            for b in 0..<5 {
                for t in 0..<net.inputLength { net.input(b)[t] = rng.nextFloat(in: -1...1) }
                for k in 0..<2 { net.knobs(b)[k] = rng.nextUnitFloat() }
            }
            net.forward()
            for b in 0..<5 { for t in 0..<30 { net.outputGradient(b)[t] = net.output(b)[t] } }
            net.backward()
            return net.gradient
        }
        XCTAssertEqual(gradient(threads: 1), gradient(threads: 2))
    }
}
