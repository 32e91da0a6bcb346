import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXTraining

/// What the training network learns is what the engine plays: weights
/// written to a .nam file load through the project's loader, and the
/// streaming `NAMWaveNet` then computes the training forward pass, at any
/// block sizes. The file survives write, load, write unchanged.
final class WaveNetNAMFileTests: XCTestCase {
    static let configs: [(String, NAMWaveNetConfig)] = [
        ("nano", WaveNetPreset.nano.config()),
        ("16 channels", WaveNetGradientTests.tiny(channels: (16, 8), kernel: 3)),
        ("gated", WaveNetGradientTests.tiny(gated: true)),
        ("SiLU, kernel 1", WaveNetGradientTests.tiny(kernel: 1, activation: .silu)),
    ]

    /// Weights after a few optimizer steps from the training start, so no
    /// part is still at its initial value.
    func trainedWeights(_ config: NAMWaveNetConfig, input: inout [[Float]]) -> WaveNetTrainingNetwork<Float> {
        let net = WaveNetTrainingNetwork<Float>(config: config, batchSize: 2, outputLength: 300, threads: 2,
                                                weights: config.trainingStart(seed: 5, headScale: 0.3))
        net.learnsHeadScale = true
        var rng = SplitMix64(seed: 8)
        input = (0..<2).map { _ in (0..<net.inputLength).map { _ in rng.nextFloat(in: -0.8...0.8) } }
        var adam = AdamOptimizer(parameterCount: net.parameters.count, learningRate: 0.01)
        for _ in 0..<3 {
            for b in 0..<2 { net.input(b).update(from: input[b], count: net.inputLength) }
            net.forward()
            for b in 0..<2 { for t in 0..<net.outputLength { net.outputGradient(b)[t] = net.output(b)[t] - 0.5 * input[b][t] } }
            net.backward()
            adam.update(&net.parameters, gradient: net.gradient)
        }
        for b in 0..<2 { net.input(b).update(from: input[b], count: net.inputLength) }
        net.forward()
        return net
    }

    func testStreamingNAMWaveNetFromTheWrittenFileComputesTheTrainingForwardPass() throws {
        var rng = SplitMix64(seed: 21)
        for (name, config) in Self.configs {
            var input: [[Float]] = []
            let net = trainedWeights(config, input: &input)
            let data = try NAMFileWriter.data(config: config, weights: net.parameters, sampleRate: 48000)
            let model = try ModelFile.load(data, path: "trained.nam")
            let blueprint = try XCTUnwrap(model.blueprint as? NAMWaveNetBlueprint, name)
            XCTAssertEqual(blueprint.weights, net.parameters, name)
            let stream = NAMWaveNet(blueprint.with(precision: .exact))
            stream.prepare(maxBlockSize: 100)
            let receptive = config.receptiveField
            for b in 0..<2 {
                stream.reset()
                var out = [Float](repeating: 0, count: net.inputLength)
                var start = 0
                // Random block sizes take both the frame and the block paths.
                while start < out.count {
                    let n = min(Int(rng.next() % 100) + 1, out.count - start)
                    input[b].withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                        stream.process(i.baseAddress! + start, o.baseAddress! + start, frameCount: n)
                    } }
                    start += n
                }
                var worst: Float = 0
                for t in 0..<net.outputLength { worst = max(worst, abs(out[t + receptive - 1] - net.output(b)[t])) }
                let peak = (0..<net.outputLength).map { abs(net.output(b)[$0]) }.max()!
                XCTAssertGreaterThan(peak, 1e-3, "\(name): the output is not trivially small")
                XCTAssertLessThan(worst, 1e-5 * max(1, peak), "\(name) item \(b)")
            }
        }
    }

    func testWriteLoadWriteGivesTheSameBytes() throws {
        let config = WaveNetPreset.standard.config()
        var weights = config.trainingStart(seed: 3)
        weights[5] = 1e-38  // subnormal-adjacent and tiny values survive
        weights[6] = -0.0
        let metadata: [String: Any] = ["name": "round \"trip\"", "modeled_by": "fxtrain", "training": ["validation_esr": 0.0125]]
        let first = try NAMFileWriter.data(config: config, weights: weights, sampleRate: 44100, metadata: metadata)
        let model = try ModelFile.load(first, path: "x.nam")
        let blueprint = try XCTUnwrap(model.blueprint as? NAMWaveNetBlueprint)
        XCTAssertEqual(blueprint.config, config)
        XCTAssertEqual(model.sampleRate, 44100)
        XCTAssertEqual(model.name, "round \"trip\"")
        XCTAssertTrue(model.info.contains { $0.key == "training ESR" && $0.value == "0.0125" })
        let second = try NAMFileWriter.data(config: blueprint.config, weights: blueprint.weights, sampleRate: model.sampleRate,
                                            metadata: metadata)
        XCTAssertEqual(first, second)
        XCTAssertEqual(blueprint.weights.map(\.bitPattern), weights.map(\.bitPattern))
    }

    func testRefusesWeightsThatDoNotFit() {
        let config = WaveNetPreset.nano.config()
        XCTAssertThrowsError(try NAMFileWriter.data(config: config, weights: [1, 2], sampleRate: 48000))
        var weights = config.trainingStart(seed: 1)
        weights[3] = .nan
        XCTAssertThrowsError(try NAMFileWriter.data(config: config, weights: weights, sampleRate: 48000)) {
            XCTAssertEqual("\($0)", "weight 3 is not finite")
        }
    }
}
