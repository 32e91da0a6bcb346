import XCTest
import NeuralFXCore
import NeuralFXTraining

/// The trainer with envelopes or a gain computer: each chunk comes with its
/// warm-up, and what the network trains on is what the streaming model computes.
final class EnvelopeTrainerTests: XCTestCase {
    /// With a warm-up longer than the data (2 s), every chunk's input holds
    /// its pair's whole past (silence before the start), so with fixed
    /// normalization the training output equals the streaming model's after
    /// hearing that past from a reset (neither is silence-referenced).
    func testEveryChunkCarriesItsWarmUpAndMatchesStreaming() throws {
        var settings = SyntheticData.smallSettings()
        settings.config.envelopeChannels = 3
        try checkWarmUp(settings)
    }

    func testGainComputerChunksCarryTheirWarmUpAndMatchStreaming() throws {
        var settings = SyntheticData.smallSettings()
        settings.config.gainComputer = true
        try checkWarmUp(settings)
    }

    func checkWarmUp(_ start: TrainingSettings, file: StaticString = #filePath, line: UInt = #line) throws {
        var settings = start
        settings.warmupSeconds = 3
        settings.normalization = .fixed
        let data = SyntheticData.clipperDataset()
        let trainer = try Trainer(dataset: data, plan: try DataSplitPlan(dataset: data, holdout: 0, seed: 1), settings: settings)
        let net = try XCTUnwrap(trainer.network as? TrainingNetwork<Float>)
        XCTAssertEqual(net.warmup, 3 * 8000)
        let weights = net.weights
        try trainer.trainStep()
        let context = net.inputLength - settings.chunkLength
        var warmUpEffect: Float = 0
        for b in 0..<settings.batchSize {
            let input = Array(UnsafeBufferPointer(start: net.input(b), count: net.inputLength))
            // The chunk is a stretch of some pair's input with `context` zeros in front.
            let found = data.pairs.contains { pair in
                let padded = [Float](repeating: 0, count: context) + pair.input
                return (0...(padded.count - input.count)).contains { s in
                    padded[s + input.count - 1] == input[input.count - 1] && Array(padded[s..<(s + input.count)]) == input
                }
            }
            XCTAssertTrue(found, "item \(b) is not a stretch of any pair", file: file, line: line)
            let model = MicroTCN(weights)
            model.prepare(maxBlockSize: 1000)
            var knobs = [net.knobs(b)[0]]
            model.setConditioning(&knobs)
            model.reset()
            let streamed = renderInBlocks(input, blockSize: 1000) { model.process($0, $1, frameCount: $2) }.suffix(settings.chunkLength)
            let trained = (0..<settings.chunkLength).map { net.output(b)[$0] }
            let difference = zip(streamed, trained).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(difference, 1e-4, "item \(b)", file: file, line: line)
            // Without the warm-up, the envelopes start from silence and the output differs.
            model.reset()
            let unwarmed = renderInBlocks(Array(input[net.warmup...]), blockSize: 1000) { model.process($0, $1, frameCount: $2) }
                .suffix(settings.chunkLength)
            warmUpEffect = max(warmUpEffect, zip(unwarmed, trained).map { abs($0 - $1) }.max()!)
        }
        XCTAssertGreaterThan(warmUpEffect, 1e-3, file: file, line: line)
    }
}
