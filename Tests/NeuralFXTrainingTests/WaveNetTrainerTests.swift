import Foundation
import XCTest
import NeuralFXCore
import NeuralFXTraining

/// `Trainer` running NAM's WaveNet: it learns, resumes bit for bit, takes
/// knobs only as knob inputs (never as a capture of several settings), and
/// refuses what it cannot do yet (several processes).
final class WaveNetTrainerTests: XCTestCase {
    /// The soft clipper at one drive: a dataset without knobs, as a .nam capture's.
    static func clipper() -> TrainingDataset {
        var data = SyntheticData.clipperDataset(pairs: 1)
        data.knobs = .empty
        for i in data.pairs.indices { data.pairs[i].knobValues = [] }
        return data
    }

    static func settings() -> TrainingSettings {
        var s = TrainingSettings(waveNet: .nano)
        s.batchSize = 4
        s.chunkLength = 512
        s.validationInterval = 10
        s.learningRate = 4e-3
        s.evaluationSeconds = 1
        return s
    }

    func trainer(_ settings: TrainingSettings = settings(), data: TrainingDataset = clipper(), resume: Checkpoint? = nil) throws -> Trainer {
        try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings, resumeFrom: resume)
    }

    func testLearnsTheClipperWellBelowTheStart() throws {
        let t = try trainer()
        let start = t.validate(seconds: 0, samplesPerSecond: 0).validationLoss
        try t.run(limits: TrainingLimits(steps: 100), checkpointPath: nil)
        XCTAssertLessThan(t.bestValidation, 0.25 * start, "validation loss \(start) -> \(t.bestValidation)")
        XCTAssertEqual(t.best.parameters.last, WaveNetPreset.headScale, "head_scale stays NAM's")
        XCTAssertNil(t.bestMicroTCNWeights)
    }

    func testResumeContinuesBitForBit() throws {
        let straight = try trainer()
        try straight.run(limits: TrainingLimits(steps: 8), checkpointPath: nil)
        let first = try trainer()
        try first.run(limits: TrainingLimits(steps: 5), checkpointPath: nil)
        let resumed = try trainer(resume: first.checkpoint(elapsedSeconds: 0))
        try resumed.run(limits: TrainingLimits(steps: 8), checkpointPath: nil)
        XCTAssertEqual(resumed.network.state, straight.network.state)
        XCTAssertEqual(resumed.adam, straight.adam)
        XCTAssertEqual(resumed.best, straight.best)
        XCTAssertNotEqual(straight.network.parameters, try trainer().network.parameters, "training changed nothing")
    }

    func testCheckpointOfAnotherArchitectureIsRefused() throws {
        let nano = try trainer()
        var feather = Self.settings()
        feather.waveNet = .feather
        XCTAssertThrowsError(try trainer(feather, resume: nano.checkpoint(elapsedSeconds: 0))) { error in
            XCTAssertTrue("\(error)".contains("different architecture"), "\(error)")
        }
    }

    func testWithoutKnobInputsRefusesPairsAtSeveralKnobSettings() {
        XCTAssertThrowsError(try trainer(data: SyntheticData.clipperDataset())) { error in
            XCTAssertEqual("\(error)", "this WaveNet takes no knobs but the dataset's pairs are at 3 knob settings; "
                           + "give it the dataset's 1 knob inputs, or render one setting (fxtrain dataset --setting)")
        }
    }

    /// With the dataset's knob as a condition input it learns the clipper at
    /// every drive, scored by the streaming network at each pair's knob
    /// setting; a checkpoint of another knob count is refused.
    func testLearnsTheClipperAcrossItsKnobWithAKnobInput() throws {
        var settings = Self.settings()
        settings.waveNetKnobs = 1
        XCTAssertEqual(settings.waveNetConfig?.layerArrays.map(\.conditionSize), [2, 2])
        let data = SyntheticData.clipperDataset()
        let t = try trainer(settings, data: data)
        let start = t.validate(seconds: 0, samplesPerSecond: 0).validationLoss
        try t.run(limits: TrainingLimits(steps: 100), checkpointPath: nil)
        XCTAssertLessThan(t.bestValidation, 0.5 * start, "validation loss \(start) -> \(t.bestValidation)")
        var otherKnobs = t.checkpoint(elapsedSeconds: 0)
        otherKnobs.settings.waveNetKnobs = 2
        XCTAssertThrowsError(try trainer(settings, data: data, resume: otherKnobs)) { error in
            XCTAssertTrue("\(error)".contains("different architecture"), "\(error)")
        }
        var tooMany = settings
        tooMany.waveNetKnobs = 2
        XCTAssertThrowsError(try trainer(tooMany, data: data)) { error in
            XCTAssertEqual("\(error)", "the model takes 2 knob inputs but the dataset has 1")
        }
    }

    func testPairsAtOneKnobSettingTrainAsACaptureOfIt() throws {
        let t = try trainer(data: SyntheticData.clipperDataset(pairs: 1))
        try t.run(limits: TrainingLimits(steps: 2), checkpointPath: nil)
        XCTAssertEqual(t.step, 2)
    }
}
