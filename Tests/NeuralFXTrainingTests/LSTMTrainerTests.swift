import Foundation
import XCTest
import NeuralFXCore
import NeuralFXTraining

/// `Trainer` running NAM's LSTM: it learns, resumes bit for bit, and refuses
/// what a .nam file cannot hold (knobs) or what it cannot do (several processes).
final class LSTMTrainerTests: XCTestCase {
    static func settings() -> TrainingSettings {
        var s = TrainingSettings(lstm: LSTMConfig(layers: 1, hiddenSize: 8, burnIn: 64))
        s.batchSize = 4
        s.chunkLength = 512
        s.validationInterval = 10
        s.evaluationSeconds = 1
        return s
    }

    func trainer(_ settings: TrainingSettings = settings(), data: TrainingDataset = WaveNetTrainerTests.clipper(),
                 resume: Checkpoint? = nil) throws -> Trainer {
        try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings, resumeFrom: resume)
    }

    func testLearnsTheClipperWellBelowTheStart() throws {
        let t = try trainer()
        XCTAssertEqual(t.settings.learningRate, LSTMConfig.learningRate, "NAM's LSTM learning rate")
        XCTAssertEqual(t.network.inputLength, 64 + 512)
        let start = t.validate(seconds: 0, samplesPerSecond: 0).validationLoss
        try t.run(limits: TrainingLimits(steps: 100), checkpointPath: nil)
        XCTAssertLessThan(t.bestValidation, 0.25 * start, "validation loss \(start) -> \(t.bestValidation)")
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

    func testCheckpointOfAnotherSizeOrArchitectureIsRefused() throws {
        let small = try trainer()
        var wider = Self.settings()
        wider.lstm!.hiddenSize = 9
        XCTAssertThrowsError(try trainer(wider, resume: small.checkpoint(elapsedSeconds: 0))) { error in
            XCTAssertTrue("\(error)".contains("different architecture"), "\(error)")
        }
        XCTAssertThrowsError(try trainer(WaveNetTrainerTests.settings(), resume: small.checkpoint(elapsedSeconds: 0))) { error in
            XCTAssertTrue("\(error)".contains("different architecture"), "\(error)")
        }
    }

    func testRefusesPairsAtSeveralKnobSettings() {
        XCTAssertThrowsError(try trainer(data: SyntheticData.clipperDataset())) { error in
            XCTAssertEqual("\(error)", "NAM's LSTM takes no knobs but the dataset's pairs are at 3 knob settings; "
                           + "train them with micro-tcn, or render one setting (fxtrain dataset --setting)")
        }
    }

    func testRefusesASizeTheLoaderWouldRefuse() {
        var s = Self.settings()
        s.lstm!.layers = 5
        XCTAssertThrowsError(try trainer(s)) { error in
            XCTAssertEqual("\(error)", "an LSTM's layers must be in 1...4 (NAM's recipe: 3)")
        }
    }
}
