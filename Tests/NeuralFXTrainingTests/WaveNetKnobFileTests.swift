import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXTraining

/// A knob-conditioned WaveNet as trained is what the engine plays: weights
/// written to NeuralFX's safetensors WaveNet form load through the project's
/// loader with their knobs, and the streaming `NAMWaveNet`, given the knobs'
/// conditioning, computes the training forward pass at any block sizes. The
/// file survives write, load, write unchanged.
final class WaveNetKnobFileTests: XCTestCase {
    static let knobs = KnobSchema([
        .continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0),
        .switchKnob("mode", label: "Mode", positions: ["soft", "hard", "fuzz"], default: 1, conditioningIndex: 1,
                    conditioningValues: [-1, 0, 1]),
        .continuous("level", label: "Level", range: 0...1, default: 0.5, conditioningIndex: nil, outputGainDecibels: -36...0),
    ])

    static let configs: [(String, NAMWaveNetConfig)] = [
        ("nano", WaveNetPreset.nano.config(knobs: 2)),
        ("16 channels", WaveNetGradientTests.tiny(channels: (16, 8), kernel: 3, knobs: 2)),
        ("gated", WaveNetGradientTests.tiny(gated: true, knobs: 2)),
    ]

    /// Weights after a few optimizer steps, each item at its own knob setting.
    func trained(_ config: NAMWaveNetConfig, input: inout [[Float]], knobs: [[Float]]) -> WaveNetTrainingNetwork<Float> {
        let net = WaveNetTrainingNetwork<Float>(config: config, batchSize: knobs.count, outputLength: 700, threads: 2,
                                                weights: config.trainingStart(seed: 5, headScale: 0.3))
        var rng = SplitMix64(seed: 8)
        input = knobs.map { _ in (0..<net.inputLength).map { _ in rng.nextFloat(in: -0.8...0.8) } }
        var adam = AdamOptimizer(parameterCount: net.parameters.count, learningRate: 0.01)
        func load() {
            for b in knobs.indices {
                net.input(b).update(from: input[b], count: net.inputLength)
                net.knobs(b).update(from: knobs[b], count: knobs[b].count)
            }
        }
        for _ in 0..<3 {
            load()
            net.forward()
            for b in knobs.indices {
                for t in 0..<net.outputLength { net.outputGradient(b)[t] = net.output(b)[t] - knobs[b][0] * input[b][t] }
            }
            net.backward()
            adam.update(&net.parameters, gradient: net.gradient)
        }
        load()
        net.forward()
        return net
    }

    func testStreamingWaveNetFromTheWrittenFileComputesTheTrainingForwardPassWithKnobs() throws {
        var rng = SplitMix64(seed: 21)
        // Knob values as the schema maps them: drive 0.2 / mode fuzz, drive 0.9 / mode soft.
        let settings: [[Double]] = [[0.2, 2, 1], [0.9, 0, 0.3]]
        let knobs = settings.map { s -> [Float] in
            var c = [Float](repeating: 0, count: 2)
            s.withUnsafeBufferPointer { Self.knobs.conditioning(for: $0.baseAddress!, into: &c) }
            return c
        }
        XCTAssertEqual(knobs, [[0.2, 1], [0.9, -1]])
        for (name, config) in Self.configs {
            var input: [[Float]] = []
            let net = trained(config, input: &input, knobs: knobs)
            let data = try WaveNetModelFile.serialize(config: config, weights: net.parameters, name: name, sampleRate: 48000,
                                                      knobs: Self.knobs)
            let model = try ModelFile.load(data, path: "trained.safetensors")
            XCTAssertEqual(model.knobs, Self.knobs, name)
            let blueprint = try XCTUnwrap(model.blueprint as? NAMWaveNetBlueprint, name)
            XCTAssertEqual(blueprint.weights, net.parameters, name)
            XCTAssertEqual(blueprint.conditioningSize, 2, name)
            let stream = NAMWaveNet(blueprint.with(precision: .exact))
            stream.prepare(maxBlockSize: 512)
            let receptive = config.receptiveField
            var outputs: [[Float]] = []
            for b in knobs.indices {
                var k = knobs[b]
                stream.setConditioning(&k)
                stream.reset()
                var out = [Float](repeating: 0, count: net.inputLength)
                var start = 0
                // Random block sizes 1...512 take both the frame and the block paths.
                while start < out.count {
                    let n = min(Int(rng.next() % 512) + 1, out.count - start)
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
                outputs.append(Array(out[(receptive - 1)...]))
            }
            // Same input, other knobs: the knob columns matter.
            var other = knobs[1]
            stream.setConditioning(&other)
            stream.reset()
            let total = net.inputLength
            var out = [Float](repeating: 0, count: total)
            input[0].withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                for s in stride(from: 0, to: total, by: 256) {
                    stream.process(i.baseAddress! + s, o.baseAddress! + s, frameCount: min(256, total - s))
                }
            } }
            XCTAssertGreaterThan(zip(out[(receptive - 1)...], outputs[0]).map { abs($0 - $1) }.max()!, 1e-4, name)
        }
    }

    func testWriteLoadWriteGivesTheSameBytes() throws {
        let config = WaveNetPreset.standard.config(knobs: 2)
        var weights = config.trainingStart(seed: 3)
        weights[5] = 1e-38
        weights[6] = -0.0
        let provenance: [String: Any] = ["trained_on": "tests", "steps": 3]
        let first = try WaveNetModelFile.serialize(config: config, weights: weights, name: "round \"trip\"", description: "a test",
                                                   sampleRate: 44100, knobs: Self.knobs, provenance: provenance)
        let model = try ModelFile.load(first, path: "x.safetensors")
        let blueprint = try XCTUnwrap(model.blueprint as? NAMWaveNetBlueprint)
        XCTAssertEqual(blueprint.config, config)
        XCTAssertEqual(model.sampleRate, 44100)
        XCTAssertEqual(model.name, "round \"trip\"")
        XCTAssertTrue(model.info.contains { $0.key == "steps" && $0.value == "3" })
        XCTAssertTrue(model.info.contains { $0.key == "architecture" && $0.value.hasPrefix("nam-wavenet") })
        let second = try WaveNetModelFile.serialize(config: blueprint.config, weights: blueprint.weights, name: model.name,
                                                    description: "a test", sampleRate: model.sampleRate, knobs: model.knobs,
                                                    provenance: provenance)
        XCTAssertEqual(first, second)
        XCTAssertEqual(blueprint.weights.map(\.bitPattern), weights.map(\.bitPattern))
        // The tensors are NAM's flat list in PyTorch's names and shapes.
        let (tensors, metadata) = try Safetensors.parse(first)
        XCTAssertEqual(metadata["architecture"], "nam-wavenet")
        XCTAssertEqual(tensors["layer_arrays.0.layers.3.conv.weight"]?.shape, [16, 16, 3])
        XCTAssertEqual(tensors["layer_arrays.1.layers.0.input_mixer.weight"]?.shape, [8, 3, 1])
        XCTAssertEqual(tensors["layer_arrays.0.rechannel.weight"]?.values, Array(weights[0..<16]))
        XCTAssertEqual(tensors["head_scale"]?.values, [weights.last!])
        XCTAssertEqual(tensors.count, WaveNetModelFile.tensorLayout(config).count)
    }

    func testRefusesWhatDoesNotFit() {
        let config = WaveNetPreset.nano.config(knobs: 2)
        XCTAssertThrowsError(try WaveNetModelFile.serialize(config: config, weights: [1, 2], name: "x", sampleRate: 48000, knobs: Self.knobs))
        var weights = config.trainingStart(seed: 1)
        XCTAssertThrowsError(try WaveNetModelFile.serialize(config: WaveNetPreset.nano.config(knobs: 1), weights: weights, name: "x",
                                                            sampleRate: 48000, knobs: Self.knobs))
        XCTAssertThrowsError(try WaveNetModelFile.serialize(config: config, weights: weights, name: "x", sampleRate: 48000,
                                                            knobs: KnobSchema([]))) {
            XCTAssertEqual("\($0)", "the knobs feed 0 conditioning inputs but the network takes 2")
        }
        weights[3] = .nan
        XCTAssertThrowsError(try WaveNetModelFile.serialize(config: config, weights: weights, name: "x", sampleRate: 48000,
                                                            knobs: Self.knobs)) {
            XCTAssertEqual("\($0)", "weight 3 is not finite")
        }
        // A .nam file cannot carry the knobs' conditioning.
        XCTAssertThrowsError(try ModelFile.load(try NAMFileWriter.data(config: config, weights: config.trainingStart(seed: 1),
                                                                       sampleRate: 48000), path: "k.nam")) {
            XCTAssertTrue("\($0)".contains("condition_size 3"), "\($0)")
        }
    }
}
