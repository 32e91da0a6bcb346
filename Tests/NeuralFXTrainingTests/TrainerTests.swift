import Foundation
import XCTest
import NeuralFXCore
import NeuralFXTraining

final class TrainerTests: XCTestCase {
    func trainer(_ settings: TrainingSettings, resume: Checkpoint? = nil) throws -> Trainer {
        let data = SyntheticData.clipperDataset()
        let plan = try DataSplitPlan(dataset: data, holdout: 0, seed: settings.seed)
        return try Trainer(dataset: data, plan: plan, settings: settings, resumeFrom: resume)
    }

    func testResumeContinuesBitForBit() throws {
        let settings = SyntheticData.smallSettings()
        let straight = try trainer(settings)
        try straight.run(limits: TrainingLimits(steps: 12), checkpointPath: nil)

        let first = try trainer(settings)
        try first.run(limits: TrainingLimits(steps: 7), checkpointPath: nil)
        let path = NSTemporaryDirectory() + "fxtrain-resume-\(getpid()).checkpoint"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.checkpoint(elapsedSeconds: 0).write(to: path)
        try first.checkpoint(elapsedSeconds: 1).write(to: path)  // replaces the earlier one
        let resumed = try trainer(settings, resume: try Checkpoint.read(from: path))
        XCTAssertEqual(resumed.step, 7)
        try resumed.run(limits: TrainingLimits(steps: 12), checkpointPath: nil)

        XCTAssertEqual(resumed.step, straight.step)
        XCTAssertEqual(resumed.network.parameters, straight.network.parameters)
        XCTAssertEqual(resumed.network.state, straight.network.state, "parameters and running statistics")
        XCTAssertEqual(resumed.adam, straight.adam)
        XCTAssertEqual(resumed.random, straight.random)
        XCTAssertEqual(resumed.plateau, straight.plateau)
        XCTAssertEqual(resumed.bestValidation, straight.bestValidation)
        XCTAssertEqual(resumed.best, straight.best)
        XCTAssertEqual(resumed.history.map(\.validationLoss), straight.history.map(\.validationLoss))
        XCTAssertNotEqual(straight.network.parameters, try trainer(settings).network.parameters, "training changed nothing")
    }

    /// Resuming with the settings weighted where the run had them not (or
    /// the reverse) changes what the validation loss means: the best and the
    /// plateau start over, the weights and the learning rate carry on.
    func testResumeWithOtherSettingWeightsChoosesTheBestAfresh() throws {
        let settings = SyntheticData.smallSettings()
        let first = try trainer(settings)
        try first.run(limits: TrainingLimits(steps: 7), checkpointPath: nil)
        XCTAssertLessThan(first.bestValidation, .greatestFiniteMagnitude, "the run never validated")
        var weighted = settings
        weighted.weightSettings = true
        let same = try trainer(settings, resume: first.checkpoint(elapsedSeconds: 0))
        XCTAssertEqual(same.bestValidation, first.bestValidation)
        let resumed = try trainer(weighted, resume: first.checkpoint(elapsedSeconds: 0))
        XCTAssertEqual(resumed.bestValidation, .greatestFiniteMagnitude)
        XCTAssertEqual(resumed.plateau.best, .greatestFiniteMagnitude)
        XCTAssertEqual(resumed.plateau.badValidations, 0)
        XCTAssertEqual(same.plateau, first.plateau)
        XCTAssertEqual(resumed.network.state, first.network.state)
        XCTAssertEqual(resumed.adam, first.adam)
    }

    /// The gain computer's parameters, and only they, step `gainRateScale` times as far.
    func testGainComputerParametersLearnFaster() throws {
        var settings = SyntheticData.smallSettings()
        settings.config.gainComputer = true
        settings.warmupSeconds = 0.5
        settings.gainRateScale = 25
        let t = try trainer(settings)
        let net = try XCTUnwrap(t.network as? TrainingNetwork<Float>)
        let scale = try XCTUnwrap(t.adam.rateScale)
        for (name, shape) in zip(net.layout.names, net.layout.shapes) {
            let o = net.layout.offset(name)
            XCTAssertEqual(Set(scale[o..<(o + shape.reduce(1, *))]), [name.hasPrefix("gain.") ? 25 : 1], name)
        }
        let before = net.parameters
        _ = try t.trainStep()
        let bias = net.layout.offset("gain.knob.bias")
        // Adam's first step moves every parameter with a gradient by its rate.
        let moved = abs(net.parameters[bias + 1] - before[bias + 1])
        XCTAssertEqual(moved, 25 * settings.learningRate, accuracy: 1e-5)
        XCTAssertNil(try trainer(SyntheticData.smallSettings()).adam.rateScale)
    }

    /// `--gain-ratio mode=3,10` on a run that has trained: the slope is the
    /// ratio less one at every setting of each position, the attack time
    /// moves with it, the other parameters stay, and the best starts over.
    func testGainRatioStartSetsTheSlopePerSwitchPosition() throws {
        let schema = KnobSchema([.switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0, conditioningIndex: 0),
                                 .continuous("peak", label: "Peak", range: 0...1, default: 0.5, conditioningIndex: 1)])
        let pairs = [(0.0, 0.2), (1.0, 0.9), (0.0, 0.7)].enumerated().map { p, knobs -> TrainingPair in
            let input = SyntheticData.material(seconds: 2, sampleRate: 8000, seed: UInt64(p + 1))
            return TrainingPair(name: "pair\(p)", inputPath: "", targetPath: "", knobValues: [knobs.0, knobs.1], input: input,
                                target: input.map { $0 * Float(1 - knobs.1 / 2) }, sampleRate: 8000, split: nil)
        }
        let data = TrainingDataset(layout: "synthetic", knobs: schema, pairs: pairs)
        var settings = SyntheticData.smallSettings()
        settings.config = MicroTCNConfig(nparams: 2, nblocks: 2, kernelSize: 3, dilationGrowth: 4, channelWidth: 8)
        settings.config.gainComputer = true
        settings.config.gainFeedback = true
        settings.config.gainCell = true
        settings.warmupSeconds = 0.25
        let t = try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings)
        try t.run(limits: TrainingLimits(steps: 6), checkpointPath: nil)
        XCTAssertLessThan(t.bestValidation, .greatestFiniteMagnitude)
        let net = try XCTUnwrap(t.network as? TrainingNetwork<Float>)
        let w = net.layout.offset("gain.knob.weight"), b = net.layout.offset("gain.knob.bias")
        typealias P = GainComputer.Parameter
        func raw(_ p: [Float], _ row: P, mode: Double, peak: Double) -> Double {
            let c = [schema.knobs[0].conditioning(for: mode), schema.knobs[1].conditioning(for: peak)]
            return Double(p[b + row.rawValue]) + (0..<2).reduce(0) { $0 + Double(p[w + row.rawValue * 2 + $1]) * c[$1] }
        }
        let before = net.parameters, moments = t.adam.firstMoment
        try t.startGainRatio(try GainRatioStart(parsing: "mode=3,10"))
        let after = net.parameters
        for mode in [0.0, 1.0] {
            for peak in [0.0, 0.4, 1.0] {
                XCTAssertEqual(Double.exp(raw(after, .slope, mode: mode, peak: peak)), mode == 0 ? 2 : 9, accuracy: 1e-4)
                // Attack time over slope, the loop's speed, as before.
                XCTAssertEqual(raw(after, .attack, mode: mode, peak: peak) - raw(after, .slope, mode: mode, peak: peak),
                               raw(before, .attack, mode: mode, peak: peak) - raw(before, .slope, mode: mode, peak: peak), accuracy: 1e-4)
            }
        }
        let rows = [P.slope, P.attack].flatMap { r in [b + r.rawValue, w + r.rawValue * 2, w + r.rawValue * 2 + 1] }
        for i in before.indices where !rows.contains(i) { XCTAssertEqual(after[i], before[i], "parameter \(i)") }
        for i in rows { XCTAssertEqual(t.adam.firstMoment[i], 0); XCTAssertEqual(t.adam.secondMoment[i], 0) }
        XCTAssertTrue(moments.indices.contains { !rows.contains($0) && moments[$0] != 0 && t.adam.firstMoment[$0] == moments[$0] })
        XCTAssertEqual(t.bestValidation, .greatestFiniteMagnitude)
        XCTAssertEqual(t.best, t.network.state)

        // What it refuses, by name.
        for (text, message) in [("mode=3", "one ratio per position"), ("0.5", "above 1"), ("x", "is not a ratio"), ("=3,4", "is not a ratio")] {
            XCTAssertThrowsError(try GainRatioStart(parsing: text)) { XCTAssertTrue("\($0)".contains(message), "\(text): \($0)") }
        }
        XCTAssertThrowsError(try t.startGainRatio(try GainRatioStart(parsing: "peak=3,10"))) { XCTAssertTrue("\($0)".contains("two-position switch"), "\($0)") }
        XCTAssertThrowsError(try t.startGainRatio(try GainRatioStart(parsing: "tone=3,10"))) { XCTAssertTrue("\($0)".contains("no knob 'tone'"), "\($0)") }
        XCTAssertThrowsError(try trainer(SyntheticData.smallSettings()).startGainRatio(try GainRatioStart(parsing: "4"))) {
            XCTAssertTrue("\($0)".contains("gain computer"), "\($0)")
        }
        // One ratio: the slope is flat in every knob.
        try t.startGainRatio(try GainRatioStart(parsing: "4"))
        XCTAssertEqual(Double.exp(raw(net.parameters, .slope, mode: 1, peak: 0.3)), 3, accuracy: 1e-4)
        XCTAssertEqual(net.parameters[w + P.slope.rawValue * 2], 0)
    }

    /// The network learns what comes before a level knob's gain: trained on
    /// targets at three levels, it ends where training on the unleveled
    /// targets ends.
    func testLevelKnobGainIsTakenOutOfTheTargets() throws {
        let leveled = SyntheticData.leveledClipperDataset(), plain = SyntheticData.clipperDataset()
        let divided = leveled.targetsBeforeKnobGain()
        for (a, b) in zip(divided.pairs, plain.pairs) {
            XCTAssertLessThan(zip(a.target, b.target).map { abs($0 - $1) }.max()!, 1e-6)
        }
        XCTAssertEqual(leveled.knobs.conditioningSize, 1)
        XCTAssertEqual(leveled.conditioning(leveled.pairs[1]), plain.conditioning(plain.pairs[1]))
        let settings = SyntheticData.smallSettings()
        let t1 = try Trainer(dataset: leveled, plan: try DataSplitPlan(dataset: leveled, holdout: 0, seed: 1), settings: settings)
        let t2 = try Trainer(dataset: plain, plan: try DataSplitPlan(dataset: plain, holdout: 0, seed: 1), settings: settings)
        try t1.run(limits: TrainingLimits(steps: 6), checkpointPath: nil)
        try t2.run(limits: TrainingLimits(steps: 6), checkpointPath: nil)
        let drift = zip(t1.network.parameters, t2.network.parameters).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(drift, 1e-4)
        XCTAssertNotEqual(t1.network.parameters, try trainer(settings).network.parameters, "training changed nothing")
    }

    /// With `weightSettings`, each pair's loss weight is the dataset's mean
    /// target power over the pair's: a pair 20 dB quieter weighs 100 times
    /// more. Without, every weight is 1; and the weights change the steps.
    func testSettingWeightsFollowTheInverseTargetPower() throws {
        var data = SyntheticData.clipperDataset()
        data.pairs[1].target = data.pairs[0].target.map { $0 * 0.1 }
        data.pairs[2].target = data.pairs[0].target
        var settings = SyntheticData.smallSettings()
        let plain = try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings)
        XCTAssertEqual(plain.settingWeights, [1, 1, 1])
        settings.weightSettings = true
        let weighted = try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings)
        let w = weighted.settingWeights
        XCTAssertEqual(w[1] / w[0], 100, accuracy: 0.01)
        XCTAssertEqual(w[2], w[0])
        // Powers P, P / 100, P: the mean is 2.01 P / 3.
        XCTAssertEqual(w[0], 2.01 / 3, accuracy: 1e-4)
        try plain.run(limits: TrainingLimits(steps: 2), checkpointPath: nil)
        try weighted.run(limits: TrainingLimits(steps: 2), checkpointPath: nil)
        XCTAssertNotEqual(plain.network.parameters, weighted.network.parameters)
    }

    func testSameSeedSameRunDifferentSeedDifferentRun() throws {
        var settings = SyntheticData.smallSettings()
        let a = try trainer(settings), b = try trainer(settings)
        try a.run(limits: TrainingLimits(steps: 4), checkpointPath: nil)
        try b.run(limits: TrainingLimits(steps: 4), checkpointPath: nil)
        XCTAssertEqual(a.network.parameters, b.network.parameters)
        settings.seed = 2
        let c = try trainer(settings)
        try c.run(limits: TrainingLimits(steps: 4), checkpointPath: nil)
        XCTAssertNotEqual(a.network.parameters, c.network.parameters)
    }

    func testTrainingReducesValidationLossWellBelowTheStart() throws {
        var settings = SyntheticData.smallSettings()
        settings.validationInterval = 50
        settings.loss = "esr"
        let data = SyntheticData.clipperDataset(seconds: 4)
        let t = try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings)
        let start = t.validate(seconds: 0, samplesPerSecond: 0).validationLoss
        let before = t.testReport()
        try t.run(limits: TrainingLimits(steps: 300), checkpointPath: nil)
        let report = t.testReport()
        XCTAssertLessThan(t.bestValidation, 0.5 * start, "validation loss \(start) -> \(t.bestValidation)")
        XCTAssertLessThan(report.overall.esr, 0.5 * before.overall.esr, "\(before.overall.line) -> \(report.overall.line)")
        XCTAssertEqual(report.perSetting.count, 3)
        XCTAssertTrue(report.overall.loudnessError.isFinite, report.overall.line)
    }

    func testExponentialDecayStepsOncePerEpochInsteadOfThePlateau() throws {
        var settings = SyntheticData.smallSettings()
        settings.learningRateDecay = 0.5
        // Without the decay, a plateau this impatient would halve the rate at every validation.
        settings.plateauPatience = 0
        settings.validationInterval = 1
        let t = try trainer(settings)
        try t.run(limits: TrainingLimits(steps: 2 * t.stepsPerEpoch + 1), checkpointPath: nil)
        XCTAssertEqual(t.adam.learningRate, settings.learningRate * 0.25)
    }

    func testCheckpointRefusesOtherArchitecture() throws {
        let settings = SyntheticData.smallSettings()
        let t = try trainer(settings)
        var other = settings
        other.config.channelWidth = 6
        XCTAssertThrowsError(try trainer(other, resume: t.checkpoint(elapsedSeconds: 0))) { error in
            XCTAssertTrue("\(error)".contains("different architecture"), "\(error)")
        }
    }

    func testSplitRules() throws {
        let data = SyntheticData.clipperDataset(pairs: 4)
        let byTime = try DataSplitPlan(dataset: data, holdout: 0, seed: 1)
        XCTAssertEqual(byTime.segments(.test).count, 4)
        XCTAssertEqual(byTime.segments(.validation).count, 4)
        let held = try DataSplitPlan(dataset: data, holdout: 2, seed: 1)
        XCTAssertEqual(Set(held.segments(.test).map(\.pair)).count, 2)
        XCTAssertTrue(held.segments(.test).allSatisfy { $0.start == 0 })
        XCTAssertTrue(Set(held.segments(.train).map(\.pair)).isDisjoint(with: held.segments(.test).map(\.pair)))
        XCTAssertThrowsError(try DataSplitPlan(dataset: data, holdout: 4, seed: 1))
    }
}

final class OptimizerTests: XCTestCase {
    func testAdamFirstStepMovesEachParameterByTheLearningRate() {
        var adam = AdamOptimizer(parameterCount: 3, learningRate: 0.01)
        var p: [Float] = [1, 2, 3]
        adam.update(&p, gradient: [0.5, -2, 0])
        XCTAssertEqual(p[0], 0.99, accuracy: 1e-6)
        XCTAssertEqual(p[1], 2.01, accuracy: 1e-6)
        XCTAssertEqual(p[2], 3, accuracy: 1e-7)
    }

    func testWeightDecayPullsTowardZero() {
        var adam = AdamOptimizer(parameterCount: 1, learningRate: 0.01, weightDecay: 0.1)
        var p: [Float] = [1]
        adam.update(&p, gradient: [0])
        XCTAssertLessThan(p[0], 1)
    }

    func testPlateauHalvesAfterPatience() {
        var s = PlateauScheduler(patience: 2)
        var lr: Float = 1
        for loss in [1.0, 0.5, 0.6, 0.6] { lr = s.observe(loss, learningRate: lr) }
        XCTAssertEqual(lr, 1)
        lr = s.observe(0.6, learningRate: lr)
        XCTAssertEqual(lr, 0.5)
        lr = s.observe(0.1, learningRate: lr)
        XCTAssertEqual(lr, 0.5)
    }

    func testClipping() {
        var g: [Float] = [3, 4]
        XCTAssertEqual(clipGradient(&g, maxNorm: 1), 5)
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(g[1], 0.8, accuracy: 1e-6)
        var h: [Float] = [0.3, 0.4]
        clipGradient(&h, maxNorm: 1)
        XCTAssertEqual(h, [0.3, 0.4])
    }
}

final class DataCheckTests: XCTestCase {
    func pair(_ input: [Float], _ target: [Float], rate: Int = 8000) -> TrainingDataset {
        TrainingDataset(layout: "test", knobs: .empty, pairs: [
            TrainingPair(name: "p", inputPath: "", targetPath: "", knobValues: [], input: input, target: target,
                         sampleRate: rate, split: nil),
        ])
    }

    func testLatencyAndPolarityAreFoundAndRemoved() throws {
        let x = SyntheticData.material(seconds: 3, sampleRate: 8000, seed: 3)
        let clipped = SyntheticData.softClip(x, drive: 0.7)
        let delayed = [Float](repeating: 0, count: 37) + clipped.map { -$0 }
        var data = pair(x, delayed)
        let checks = try DataChecks.run(&data, maxLatency: 100)
        XCTAssertEqual(checks[0].latency, 37)
        XCTAssertTrue(checks[0].polarityInverted)
        XCTAssertEqual(data.pairs[0].input.count, data.pairs[0].target.count)
        for i in stride(from: 0, to: 20000, by: 997) { XCTAssertEqual(data.pairs[0].target[i], clipped[i], accuracy: 1e-7) }
    }

    func testAlignedPairHasNoLatency() {
        let x = SyntheticData.material(seconds: 2, sampleRate: 8000, seed: 4)
        let (lag, correlation) = DataChecks.estimateLatency(input: x, target: SyntheticData.softClip(x, drive: 1), maxLag: 500)
        XCTAssertEqual(lag, 0)
        XCTAssertGreaterThan(correlation, 0.5)
    }

    func testPeriodicMaterialTakesTheShortestLag() {
        // A held, clipped tone with a period of 80 samples: every multiple of
        // 80 matches about as well; the true lag (0, then 7) must be found.
        let x = (0..<16000).map { Float(0.6 * sin(2 * Double.pi * Double($0) / 80) + 0.001 * sin(Double($0) * 0.37)) }
        let y = SyntheticData.softClip(x, drive: 1)
        XCTAssertEqual(DataChecks.estimateLatency(input: x, target: y, maxLag: 2000).lag, 0)
        let delayed = [Float](repeating: 0, count: 7) + y.dropLast(7)
        XCTAssertEqual(DataChecks.estimateLatency(input: x, target: delayed, maxLag: 2000).lag, 7)
    }

    func testZeroLatencyLimitTrustsTheAlignment() throws {
        let x = SyntheticData.material(seconds: 2, sampleRate: 8000, seed: 5)
        var data = pair(x, SyntheticData.softClip(x, drive: 1))
        let checks = try DataChecks.run(&data, maxLatency: 0)
        XCTAssertEqual(checks.map(\.latency), [0])
    }

    func testLatencyAboveTheLimitIsRefused() {
        let x = SyntheticData.material(seconds: 2, sampleRate: 8000, seed: 5)
        var data = pair(x, [Float](repeating: 0, count: 300) + x)
        XCTAssertThrowsError(try DataChecks.run(&data, maxLatency: 100)) { error in
            XCTAssertEqual("\(error)", "'p': the target is offset from the input by 300 samples, more than the limit of 100"
                           + " (heavy distortion can mislead the estimate: if the pairs are known to be aligned, pass --max-latency 0)")
        }
    }

    func testSilenceAndMismatchedRatesAreRefused() {
        let x = SyntheticData.material(seconds: 1, sampleRate: 8000, seed: 6)
        var silent = pair(x, [Float](repeating: 0, count: x.count))
        XCTAssertThrowsError(try DataChecks.run(&silent, maxLatency: 10)) { XCTAssertTrue("\($0)".contains("target is silent"), "\($0)") }
        var rates = pair(x, x)
        rates.pairs.append(TrainingPair(name: "q", inputPath: "", targetPath: "", knobValues: [], input: x, target: x,
                                        sampleRate: 44100, split: nil))
        XCTAssertThrowsError(try DataChecks.run(&rates, maxLatency: 10)) { XCTAssertTrue("\($0)".contains("44100 Hz"), "\($0)") }
    }

    func testExtraTailIsTrimmedAndClippingReported() throws {
        let x = SyntheticData.material(seconds: 1, sampleRate: 8000, seed: 7)
        var data = pair(x, x.map { max(min($0 * 4, 1), -1) } + [Float](repeating: 0.1, count: 500))
        let checks = try DataChecks.run(&data, maxLatency: 10)
        XCTAssertEqual(data.pairs[0].target.count, x.count)
        XCTAssertTrue(checks[0].notes.contains { $0.contains("500 samples more") }, "\(checks[0].notes)")
        XCTAssertTrue(checks[0].notes.contains { $0.contains("clips") }, "\(checks[0].notes)")
    }

    func testCL1BNames() {
        XCTAssertEqual(CL1BFileName.parse("target_at_025_re_05_ra_0_th_1.wav"), [0.25, 0.5, 0, 1])
        XCTAssertEqual(CL1BFileName.parse("target_at_075_re_025_ra_05_th_05.wav"), [0.75, 0.25, 0.5, 0.5])
        XCTAssertNil(CL1BFileName.parse("target_at_2_re_05_ra_0_th_1.wav"))
        XCTAssertNil(CL1BFileName.parse("target_at_05_re_05_ra_0.wav"))
        XCTAssertNil(CL1BFileName.parse("Input.wav"))
    }
}

/// The test report's baselines on data whose answers are known.
final class TestReportTests: XCTestCase {
    /// Each pair's target is the input times a gain that depends on the pair.
    func gainDataset(gains: [Float]) -> TrainingDataset {
        let schema = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0)])
        let pairs = gains.enumerated().map { p, g -> TrainingPair in
            let input = SyntheticData.material(seconds: 2, sampleRate: 8000, seed: UInt64(p + 1))
            return TrainingPair(name: "pair\(p)", inputPath: "", targetPath: "", knobValues: [Double(p) / Double(gains.count - 1)],
                                input: input, target: input.map { $0 * g }, sampleRate: 8000, split: nil)
        }
        return TrainingDataset(layout: "synthetic", knobs: schema, pairs: pairs)
    }

    func report(_ data: TrainingDataset) throws -> TestReport {
        let settings = SyntheticData.smallSettings()
        return try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings).testReport()
    }

    func testIdentityAndFixedGainBaselines() throws {
        // Target = input / 2 everywhere: the identity's error equals the
        // target, so its ESR is 1; gain 1/2 is exact.
        let half = try report(gainDataset(gains: [0.5, 0.5, 0.5]))
        XCTAssertEqual(half.overall.identityESR, 1, accuracy: 1e-9)
        XCTAssertLessThan(half.overall.fixedGainESR, 1e-12)
        XCTAssertLessThan(half.perSettingGainESR, 1e-12)
        // Different gains per setting: one gain cannot fit all, one per setting can.
        let mixed = try report(gainDataset(gains: [0.25, 1, 0.5]))
        XCTAssertEqual(mixed.perSetting.count, 3)
        XCTAssertGreaterThan(mixed.overall.fixedGainESR, 0.05)
        XCTAssertLessThan(mixed.perSettingGainESR, 1e-12)
        for m in mixed.perSetting { XCTAssertLessThan(m.fixedGainESR, 1e-12, m.line) }
        XCTAssertTrue(mixed.overall.line.contains("best fixed gain"), mixed.overall.line)
    }
}
