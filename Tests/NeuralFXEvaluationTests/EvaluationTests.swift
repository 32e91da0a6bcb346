import XCTest
import Foundation
import NeuralFXModelFiles
import NeuralFXCore
import NeuralFXDatasets
import NeuralFXDevices
import NeuralFXEvaluation
import NeuralFXTraining

final class EvaluationTests: XCTestCase {
    func testGridCoversEveryCombination() throws {
        var grid = KnobGrid(schema: DeviceKind.la2a.knobs, steps: 3)
        XCTAssertEqual(grid.settings.count, 6)
        XCTAssertEqual(grid.values[1], [0, 0.5, 1])
        try grid.set("peak=0.1,0.9")
        try grid.set("mode=limit")
        XCTAssertEqual(grid.settings, [[1, 0.1], [1, 0.9]])
        XCTAssertEqual(grid.describe([1, 0.1]), "mode=limit peak=0.1")
        XCTAssertThrowsError(try grid.set("peak=2"))
        XCTAssertThrowsError(try grid.set("ratio=1"))
        XCTAssertThrowsError(try grid.set("peak"))
    }

    /// A model that passes its input through (tanh of it, for these quiet
    /// signals practically the input) must score like the identity.
    func testAPassThroughModelScoresAsTheIdentity() throws {
        var config = MicroTCNConfig.named("utcn-100-c", nparams: 2)!
        config.residualDelay = 0
        let model = EffectModel(name: "pass", blueprint: MicroTCNWeights.trainingStart(config, seed: 1, branchScale: 0),
                                sampleRate: 44_100, knobs: DeviceKind.la2a.knobs)
        let comparison = try DeviceComparison(model: model, device: .la2a)
        let input = DryMaterial(sampleRate: 44_100).render(seconds: 3, seed: 5).map { $0 * 0.05 }
        let score = comparison.score(input, setting: [0, 0.8], description: "")
        XCTAssertGreaterThan(score.sums.identityESR, 1e-3, "the device must change the signal for the test to mean anything")
        XCTAssertEqual(score.esr, score.sums.identityESR, accuracy: 0.01 * score.sums.identityESR)
        XCTAssertLessThan(score.sums.fixedGainESR, score.sums.identityESR)
        let table = ComparisonReport.markdown([score, score], schema: DeviceKind.la2a.knobs)
        XCTAssertEqual(table.split(separator: "\n").count, 5)
    }

    func testModelWithoutTheDeviceKnobsIsRefused() {
        let model = EffectModel(name: "x", blueprint: MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 1),
                                sampleRate: 44_100, knobs: DeviceKind.la2a.knobs)
        XCTAssertThrowsError(try DeviceComparison(model: model, device: .overdrive))
    }

    func testDeviceOutputIsAlignedWithTheDatasets() {
        // The overdrive has latency; aligned output of a click peaks at the click.
        let model = EffectModel(name: "x", blueprint: MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 3)!, seed: 1),
                                sampleRate: 44_100, knobs: DeviceKind.overdrive.knobs)
        let comparison = try! DeviceComparison(model: model, device: .overdrive)
        var click = [Float](repeating: 0, count: 4000)
        click[1000] = 0.05
        let y = comparison.deviceOutput(click, setting: [0, 1, 1])
        let peak = y.indices.max { abs(y[$0]) < abs(y[$1]) }!
        XCTAssertEqual(peak, 1000, accuracy: 2)
    }

    func testSpectrumPeaksAtTheToneFrequency() {
        let x = (0..<44_100).map { Float(0.5 * sin(2 * Double.pi * 1000 * Double($0) / 44_100)) }
        let s = ComparisonPlots.averageSpectrum(x, sampleRate: 44_100)
        let top = s.max { $0.1 < $1.1 }!
        XCTAssertEqual(top.0, 1000, accuracy: 11)
        XCTAssertEqual(top.1, 20 * log10(0.5), accuracy: 1.5)
    }
}

/// `fxtrain evaluate` renders the model at each knob setting from the state
/// after silence at that setting: micro-tcn's PyTorch output from the first
/// sample (fixture made by tools/make_microtcn_fixtures.py at mode=limit,
/// peak=0.35; the defaults are compress and 0.5).
final class EvaluationStartTests: XCTestCase {
    func testTheModelStartsAtTheSettingScoredFromTheFirstSample() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralFXModelFilesTests/Fixtures/microtcn")
        let model = try ModelFile.load(path: fixtures.appendingPathComponent("converted-checkpoint.safetensors").path)
        let io = try Safetensors.parse(Data(contentsOf: fixtures.appendingPathComponent("converted-checkpoint-io.safetensors"))).tensors
        let comparison = try DeviceComparison(model: model, device: .la2a)
        XCTAssertEqual(DeviceKind.la2a.knobs.names, ["mode", "peak"])
        let y = comparison.modelOutput(io["input"]!.values, setting: [1, 0.35])
        let expected = io["output"]!.values
        XCTAssertLessThan(zip(y, expected).map { abs($0 - $1) }.max()!, 1e-5)
        let atDefaults = comparison.modelOutput(io["input"]!.values, setting: [0, 0.5])
        XCTAssertGreaterThan(zip(atDefaults.prefix(100), expected.prefix(100)).map { abs($0 - $1) }.max()!, 1e-3)
    }
}

/// The burst-and-recovery measurement of `fxtrain evaluate`.
final class BurstRecoveryTests: XCTestCase {
    func testThePassThroughModelIsOffByAllTheDeviceGainAfterTheBurst() throws {
        var config = MicroTCNConfig.named("utcn-100-c", nparams: 2)!
        config.residualDelay = 0
        let model = EffectModel(name: "pass", blueprint: MicroTCNWeights.trainingStart(config, seed: 1, branchScale: 0),
                                sampleRate: 44_100, knobs: DeviceKind.la2a.knobs)
        let test = BurstRecovery(try DeviceComparison(model: model, device: .la2a), setting: [1, 1])
        // The signal: quiet, 24 dB louder for 2 s, quiet again.
        let quiet = GainCurve.points(input: [Float](repeating: 1, count: test.signal.count), output: test.signal,
                                     sampleRate: 44_100, window: 0.5)
        XCTAssertEqual(quiet[4].decibels - quiet[0].decibels, BurstRecovery.burstDecibels, accuracy: 0.2)
        // The device at full peak reduction is still recovering after the burst.
        XCTAssertGreaterThan(test.deviceRecovery, 1, "the device must release slowly for the test to mean anything")
        // A model that changes nothing (gain 0 dB, to within tanh's bend at
        // these levels) is off by the device's own gain, the largest of it after the burst.
        let after = test.device.filter { $0.seconds >= BurstRecovery.leadSeconds + BurstRecovery.burstSeconds }
        let deviceGain = after.map { abs($0.decibels) }.max()!
        XCTAssertEqual(test.recoveryError.decibels, deviceGain, accuracy: 0.05)
        XCTAssertTrue(test.model.filter { $0.seconds >= BurstRecovery.leadSeconds + BurstRecovery.burstSeconds }
                        .allSatisfy { abs($0.decibels) < 0.01 })
    }

    func testTheSideChainAloneIsTheWholeGainWhenTheNetworkPassesThrough() throws {
        var config = MicroTCNConfig.named("utcn-10-c-gain-cell", nparams: 2)!
        config.residualDelay = 0
        var weights = MicroTCNWeights.trainingStart(config, seed: 1, branchScale: 0)
        // Some knob dependence, so a knob mapped wrongly would show.
        for i in weights.gainComputer!.knobWeight.indices { weights.gainComputer!.knobWeight[i] = Float(i % 3) * 0.2 - 0.2 }
        let model = EffectModel(name: "side-chain", blueprint: weights, sampleRate: 44_100, knobs: DeviceKind.la2a.knobs)
        let test = BurstRecovery(try DeviceComparison(model: model, device: .la2a), setting: [1, 0.75])
        let sideChain = try XCTUnwrap(test.sideChain)
        XCTAssertEqual(sideChain.count, test.model.count)
        XCTAssertGreaterThan(sideChain.map(\.decibels).max()! - sideChain.map(\.decibels).min()!, 3, "the side-chain must act")
        // Equal where the input is quiet; during the burst the network's
        // output tanh bends the loud input a little.
        let burst = BurstRecovery.leadSeconds..<(BurstRecovery.leadSeconds + BurstRecovery.burstSeconds)
        for (s, m) in zip(sideChain, test.model) where !burst.contains(s.seconds) {
            XCTAssertEqual(s.decibels, m.decibels, accuracy: 0.02, "at \(s.seconds) s")
        }
        XCTAssertEqual(test.sideChainRecoveryError!.decibels, test.recoveryError.decibels, accuracy: 0.02)

        let plain = EffectModel(name: "plain", blueprint: MicroTCNWeights.trainingStart(MicroTCNConfig.named("utcn-10-c", nparams: 2)!, seed: 1),
                                sampleRate: 44_100, knobs: DeviceKind.la2a.knobs)
        XCTAssertNil(BurstRecovery(try DeviceComparison(model: plain, device: .la2a), setting: [1, 1]).sideChain)
    }
}
