import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXTraining

/// What the LSTM learns is what the engine plays: weights written to a .nam
/// file load through the project's loader, and the streaming `NAMLSTM` then
/// computes the training forward pass, at any block sizes. The file
/// survives write, load, write unchanged, and the training forward pass
/// reads a .nam file NAM itself wrote as NAM lays it out.
final class LSTMNAMFileTests: XCTestCase {
    static let configs: [(String, LSTMConfig)] = [
        ("NAM's 3 x 18", LSTMConfig(layers: 3, hiddenSize: 18, burnIn: 100)),
        ("1 x 5", LSTMConfig(layers: 1, hiddenSize: 5, burnIn: 0)),
        ("2 x 16", LSTMConfig(layers: 2, hiddenSize: 16, burnIn: 37)),
    ]

    /// Weights after a few optimizer steps from the training start, so no
    /// part is still at its initial value.
    func trained(_ config: LSTMConfig) -> [Float] {
        let net = LSTMTrainingNetwork<Float>(config: config, batchSize: 2, outputLength: 300, threads: 2,
                                             weights: config.trainingStart(seed: 5))
        var rng = SplitMix64(seed: 8)
        let input = (0..<2).map { _ in (0..<net.inputLength).map { _ in rng.nextFloat(in: -0.8...0.8) } }
        var adam = AdamOptimizer(parameterCount: net.parameters.count, learningRate: 0.01)
        for _ in 0..<3 {
            for b in 0..<2 { net.input(b).update(from: input[b], count: net.inputLength) }
            net.forward()
            for b in 0..<2 {
                for t in 0..<net.outputLength { net.outputGradient(b)[t] = net.output(b)[t] - 0.5 * input[b][config.burnIn + t] }
            }
            net.backward()
            adam.update(&net.parameters, gradient: net.gradient)
        }
        return net.parameters
    }

    /// The streaming model's output for `input` at random block sizes, from its reset state.
    func stream(_ model: any StreamingNetwork, _ input: [Float], rng: inout SplitMix64) -> [Float] {
        model.prepare(maxBlockSize: 100)
        var out = [Float](repeating: 0, count: input.count)
        var start = 0
        while start < out.count {
            let n = min(Int(rng.next() % 100) + 1, out.count - start)
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                model.process(i.baseAddress! + start, o.baseAddress! + start, frameCount: n)
            } }
            start += n
        }
        return out
    }

    /// The training forward pass with `weights` (initial states included) over `input`.
    func trainingOutput(_ config: LSTMConfig, weights: [Float], input: [Float]) -> [Float] {
        let net = LSTMTrainingNetwork<Float>(config: config, batchSize: 1, outputLength: input.count - config.burnIn, threads: 1,
                                             weights: weights)
        net.input(0).update(from: input, count: input.count)
        net.forward()
        return (0..<net.outputLength).map { net.output(0)[$0] }
    }

    func testStreamingNAMLSTMFromTheWrittenFileComputesTheTrainingForwardPass() throws {
        var rng = SplitMix64(seed: 21)
        for (name, config) in Self.configs {
            let file = config.fileWeights(trained(config))
            let data = try NAMFileWriter.data(lstmLayers: config.layers, hiddenSize: config.hiddenSize, weights: file, sampleRate: 48000)
            let model = try ModelFile.load(data, path: "trained.nam")
            let blueprint = try XCTUnwrap(model.blueprint as? NAMLSTMBlueprint, name)
            XCTAssertEqual(blueprint.weights, file, name)
            XCTAssertEqual([blueprint.layers, blueprint.hiddenSize, blueprint.inputSize], [config.layers, config.hiddenSize, 1], name)
            let input = (0..<(config.burnIn + 1500)).map { _ in rng.nextFloat(in: -0.9...0.9) }
            // The engine starts from the file's state after silence (prewarmed further by the loader).
            let expected = trainingOutput(config, weights: file, input: input)
            let out = stream(NAMLSTM(blueprint.with(precision: .exact)), input, rng: &rng)
            let peak = expected.map(abs).max()!
            XCTAssertGreaterThan(peak, 1e-3, "\(name): the output is not trivially small")
            let worst = expected.indices.map { abs(out[config.burnIn + $0] - expected[$0]) }.max()!
            XCTAssertLessThan(worst, 1e-5 * max(1, peak), name)
        }
    }

    /// The file holds the state after silence, as NAM exports it: the
    /// learned initial states are replaced, nothing else is, and from the
    /// stored state silence stays where it is.
    func testTheFileStoresTheStateAfterSilence() {
        let config = LSTMConfig(layers: 2, hiddenSize: 6, burnIn: 0)
        var weights = trained(config)
        let h = config.hiddenSize
        let states = [4 * h * (1 + h) + 4 * h, 4 * h * (1 + h) + 4 * h + 2 * h + 4 * h * 2 * h + 4 * h]
        for s in states { for i in 0..<(2 * h) { weights[s + i] = 0.5 } }
        let file = config.fileWeights(weights)
        for i in weights.indices where !states.contains(where: { (0..<(2 * h)).contains(i - $0) }) {
            XCTAssertEqual(file[i], weights[i], "weight \(i) is not a state")
        }
        XCTAssertNotEqual(file, weights)
        let silence = trainingOutput(config, weights: file, input: [Float](repeating: 0, count: 2000))
        XCTAssertEqual(silence.max()! - silence.min()!, 0, accuracy: 1e-6, "silence from the stored state is steady")
        XCTAssertEqual(config.fileWeights(file), file, "the stored state does not depend on the learned one")
    }

    func testWriteLoadWriteGivesTheSameBytes() throws {
        let config = LSTMConfig.nam
        var weights = config.fileWeights(config.trainingStart(seed: 3))
        weights[5] = 1e-38
        weights[6] = -0.0
        let metadata: [String: Any] = ["name": "round \"trip\"", "modeled_by": "fxtrain", "training": ["validation_esr": 0.0125]]
        let first = try NAMFileWriter.data(lstmLayers: 3, hiddenSize: 18, weights: weights, sampleRate: 44100, metadata: metadata)
        let model = try ModelFile.load(first, path: "x.nam")
        let blueprint = try XCTUnwrap(model.blueprint as? NAMLSTMBlueprint)
        XCTAssertEqual(model.sampleRate, 44100)
        XCTAssertEqual(model.name, "round \"trip\"")
        XCTAssertTrue(model.info.contains { $0.key == "training ESR" && $0.value == "0.0125" })
        let second = try NAMFileWriter.data(lstmLayers: blueprint.layers, hiddenSize: blueprint.hiddenSize, weights: blueprint.weights,
                                            sampleRate: model.sampleRate, metadata: metadata)
        XCTAssertEqual(first, second)
        XCTAssertEqual(blueprint.weights.map(\.bitPattern), weights.map(\.bitPattern))
    }

    /// NAM's own LSTM capture (2 x 8, written by NAM's exporter): the
    /// training network reads its weights in NAM's order and plays it as the engine does.
    func testTrainingForwardPassPlaysNAMsOwnCapture() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralFXModelFilesTests/Fixtures/nam/lstm.nam")
        let model = try ModelFile.load(Data(contentsOf: url), path: url.path)
        let blueprint = try XCTUnwrap(model.blueprint as? NAMLSTMBlueprint)
        let config = LSTMConfig(layers: blueprint.layers, hiddenSize: blueprint.hiddenSize, burnIn: 0)
        var rng = SplitMix64(seed: 4)
        let input = (0..<3000).map { i in 0.5 * Float.sin(Float(i) * 0.03) + rng.nextFloat(in: -0.2...0.2) }
        // The engine prewarms the file's state with half a second of silence;
        // this capture's stored state is not yet there (its output starts
        // 0.04 away and settles in 100 samples), so the training pass starts
        // from the state after silence, as `fileWeights` finds it.
        let expected = trainingOutput(config, weights: config.fileWeights(blueprint.weights), input: input)
        let out = stream(NAMLSTM(blueprint.with(precision: .exact)), input, rng: &rng)
        let peak = expected.map(abs).max()!
        XCTAssertGreaterThan(peak, 1e-3)
        XCTAssertLessThan(zip(out, expected).map { abs($0 - $1) }.max()!, 1e-5 * max(1, peak))
    }

    func testRefusesWeightsThatDoNotFit() {
        XCTAssertThrowsError(try NAMFileWriter.data(lstmLayers: 1, hiddenSize: 4, weights: [1, 2], sampleRate: 48000)) {
            XCTAssertEqual("\($0)", "has 2 weights but its LSTM configuration needs \(LSTMConfig(layers: 1, hiddenSize: 4, burnIn: 0).weightCount)")
        }
        var weights = LSTMConfig(layers: 1, hiddenSize: 4, burnIn: 0).trainingStart(seed: 1)
        weights[3] = .infinity
        XCTAssertThrowsError(try NAMFileWriter.data(lstmLayers: 1, hiddenSize: 4, weights: weights, sampleRate: 48000)) {
            XCTAssertEqual("\($0)", "weight 3 is not finite")
        }
    }
}
