import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles

func fixtureURL(_ relative: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative)
}

/// Parity with the independent PyTorch implementation in tools/microtcn_reference.py
/// (fixtures made by tools/make_microtcn_fixtures.py).
final class MicroTCNParityTests: XCTestCase {
    static let cases = ["utcn-100-c", "small-gelu", "small-snake", "small-gated", "small-tanh", "small-silu",
                        "small-relu-unconditioned", "small-grouped", "small-growth", "converted-checkpoint", "small-gain",
                        "small-gain-fb", "small-gain-cell"]

    /// The knobs the save-and-load tests write into their files.
    static let compressorKnobs = KnobSchema([
        .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 1, conditioningIndex: 0),
        .continuous("peak", label: "Peak Reduction", range: 0...1, default: 0.25, conditioningIndex: 1),
    ])

    func testEveryFixtureMatchesPyTorch() throws {
        for name in Self.cases {
            let model = try ModelFile.load(path: fixtureURL("microtcn/\(name).safetensors").path)
            let io = try Safetensors.parse(Data(contentsOf: fixtureURL("microtcn/\(name)-io.safetensors"))).tensors
            let x = io["input"]!.values, expected = io["output"]!.values
            XCTAssertEqual(model.sampleRate, 44100)
            XCTAssertGreaterThan(expected.map(abs).max()!, 0.01, "\(name): reference output is silent")
            for maxBlock in [x.count, 64, 1] {
                let net = model.blueprint.makeNetwork()
                net.prepare(maxBlockSize: maxBlock)
                if let cond = io["conditioning"]?.values { net.setConditioning(cond) }
                net.reset()
                var y = [Float](repeating: 0, count: x.count)
                var at = 0
                while at < x.count {
                    let n = min(maxBlock, x.count - at)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: n) }
                    }
                    at += n
                }
                let worst = zip(y, expected).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-5, "\(name) at blocks of \(maxBlock): max error \(worst)")
            }
        }
    }

    func testKnobsAndInfoComeFromMetadata() throws {
        let model = try ModelFile.load(path: fixtureURL("microtcn/utcn-100-c.safetensors").path)
        XCTAssertEqual(model.knobs.names, ["mode", "peak"])
        XCTAssertEqual(model.knobs.knobs[0].positions, ["compress", "limit"])
        XCTAssertEqual(model.name, "utcn-100-c")
        XCTAssertTrue(model.info.contains { $0.key == "trained_on" && $0.value.contains("random") })
        XCTAssertTrue(model.info.contains { $0.key == "receptive field" && $0.value == "4445 samples" })
    }

    /// Envelope models keep their side-chain tensors under PyTorch-style
    /// names (`env.log_tau`, `env.proj.weight`) and their count in the config.
    func testEnvelopeModelSavesAndLoads() throws {
        let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c-env", nparams: 2)!, seed: 5)
        let knobs = Self.compressorKnobs
        let data = try ModelFile.serialize(weights, name: "env", sampleRate: 44100, knobs: knobs)
        let (tensors, metadata) = try Safetensors.parse(data)
        XCTAssertEqual(tensors["env.log_tau"]?.shape, [6])
        XCTAssertEqual(tensors["env.proj.weight"]?.shape, [32, 6, 1])
        XCTAssertTrue(metadata[ModelFile.configKey]!.contains("\"envelope_channels\":6"))
        let model = try ModelFile.loadSafetensors(data)
        XCTAssertEqual(model.blueprint as? MicroTCNWeights, weights)
        XCTAssertTrue(model.info.contains { $0.key == "architecture" && $0.value.contains("6 envelopes") })
        // Its tensors are required, and refused in a model without envelopes.
        let plain = try ModelFile.serialize(MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 5),
                                            name: "plain", sampleRate: 44100, knobs: knobs)
        var missing = weights.namedTensors.filter { $0.name != "env.log_tau" }
        XCTAssertThrowsError(try ModelFile.loadSafetensors(Safetensors.serialize(missing, metadata: metadata))) { e in
            XCTAssertTrue("\(e)".contains("'env.log_tau' is missing"), "\(e)")
        }
        missing = try Safetensors.parse(plain).tensors.map { ($0.key, $0.value.shape, $0.value.values) }
            + [("env.log_tau", [6], [Float](repeating: 1, count: 6))]
        XCTAssertThrowsError(try ModelFile.loadSafetensors(Safetensors.serialize(missing, metadata: try Safetensors.parse(plain).metadata))) { e in
            XCTAssertTrue("\(e)".contains("unexpected tensor env.log_tau"), "\(e)")
        }
    }

    /// Gain computer models keep the knob map under `gain.knob.*` and say
    /// so in the config; a file without the map is refused by name.
    func testGainComputerModelSavesAndLoads() throws {
        let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c-gain", nparams: 2)!, seed: 6)
        let knobs = Self.compressorKnobs
        let data = try ModelFile.serialize(weights, name: "gain", sampleRate: 44100, knobs: knobs)
        let (tensors, metadata) = try Safetensors.parse(data)
        XCTAssertEqual(tensors["gain.knob.weight"]?.shape, [8, 2])
        XCTAssertEqual(tensors["gain.knob.bias"]?.shape, [8])
        XCTAssertTrue(metadata[ModelFile.configKey]!.contains("\"gain_computer\":true"))
        let model = try ModelFile.loadSafetensors(data)
        XCTAssertEqual(model.blueprint as? MicroTCNWeights, weights)
        XCTAssertTrue(model.info.contains { $0.key == "architecture" && $0.value.contains("gain computer") })
        let missing = weights.namedTensors.filter { $0.name != "gain.knob.bias" }
        XCTAssertThrowsError(try ModelFile.loadSafetensors(Safetensors.serialize(missing, metadata: metadata))) { e in
            XCTAssertTrue("\(e)".contains("'gain.knob.bias' is missing"), "\(e)")
        }
        XCTAssertFalse(metadata[ModelFile.configKey]!.contains("gain_feedback"))
        // The feedback topology: same tensors, one more config entry.
        let looped = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c-gain-fb", nparams: 2)!, seed: 6)
        let loopedData = try ModelFile.serialize(looped, name: "gain", sampleRate: 44100, knobs: knobs)
        XCTAssertTrue(try Safetensors.parse(loopedData).metadata[ModelFile.configKey]!.contains("\"gain_feedback\":true"))
        let loopedModel = try ModelFile.loadSafetensors(loopedData)
        XCTAssertEqual((loopedModel.blueprint as? MicroTCNWeights)?.config.hasGainFeedback, true)
        XCTAssertTrue(loopedModel.info.contains { $0.key == "architecture" && $0.value.contains("feedback gain computer") })
        // The optical cell: five more rows in the knob map; a file whose map
        // has the feed-forward shape is refused by name.
        let cell = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c-gain-cell", nparams: 2)!, seed: 6)
        let cellData = try ModelFile.serialize(cell, name: "gain", sampleRate: 44100, knobs: knobs)
        let (cellTensors, cellMetadata) = try Safetensors.parse(cellData)
        XCTAssertEqual(cellTensors["gain.knob.weight"]?.shape, [13, 2])
        XCTAssertTrue(cellMetadata[ModelFile.configKey]!.contains("\"gain_cell\":true"))
        let cellModel = try ModelFile.loadSafetensors(cellData)
        XCTAssertEqual(cellModel.blueprint as? MicroTCNWeights, cell)
        XCTAssertTrue(cellModel.info.contains { $0.key == "architecture" && $0.value.contains("feedback optical-cell gain computer") })
        XCTAssertThrowsError(try ModelFile.loadSafetensors(Safetensors.serialize(looped.namedTensors, metadata: cellMetadata))) { e in
            XCTAssertTrue("\(e)".contains("gain.knob.weight"), "\(e)")
        }
    }

    func testSaveThenLoadGivesTheSameModel() throws {
        let config = MicroTCNConfig.named("utcn-300-c", nparams: 2)!
        let weights = MicroTCNWeights.random(config, seed: 77)
        let knobs = Self.compressorKnobs
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        try ModelFile.save(weights, to: path, name: "roundtrip", sampleRate: 48000, knobs: knobs,
                           provenance: ["trained_on": "test", "esr": 0.01])
        let model = try ModelFile.load(path: path)
        XCTAssertEqual(model.blueprint as? MicroTCNWeights, weights)
        XCTAssertEqual(model.knobs, knobs)
        XCTAssertEqual(model.sampleRate, 48000)
        XCTAssertThrowsError(try ModelFile.save(weights, to: path, name: "again", sampleRate: 48000, knobs: knobs)) { e in
            XCTAssertTrue("\(e)".contains("already exists"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
        // Replacing it, by a path relative to the working directory.
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path))
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        try ModelFile.save(weights, to: "m.safetensors", name: "replaced", sampleRate: 44100, knobs: knobs, overwrite: true)
        XCTAssertEqual(try ModelFile.load(path: path).sampleRate, 44100)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
        // A failed replacement keeps the old file.
        try FileManager.default.createDirectory(atPath: dir.path + "/sub", withIntermediateDirectories: false)
        XCTAssertThrowsError(try ModelFile.save(weights, to: "sub", name: "x", sampleRate: 44100, knobs: knobs, overwrite: true))
        XCTAssertEqual(try ModelFile.load(path: path).sampleRate, 44100)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["m.safetensors", "sub"])
    }
}
