import Foundation
import XCTest
import CAllocationCounter
import NeuralFXCore
import NeuralFXModelFiles

/// Parity with the reference implementation (the `neural-amp-modeler` package)
/// on the fixtures made by tools/make_nam_fixtures.py.
final class NAMParityTests: XCTestCase {
    static let cases = ["wavenet-standard", "wavenet-lite", "wavenet-feather", "wavenet-nano", "wavenet-gated",
                        "wavenet-nongated-head", "wavenet-gated-head", "lstm", "linear"]

    lazy var reference: [String: SafetensorsTensor] = try! Safetensors.parse(
        Data(contentsOf: fixtureURL("nam/reference.safetensors"))).tensors

    func load(_ name: String) throws -> EffectModel { try ModelFile.load(path: fixtureURL("nam/\(name).nam").path) }

    func testExactOutputMatchesTheReferenceAtAnyBlockSize() throws {
        let x = reference["input"]!.values
        for name in Self.cases {
            let model = try load(name)
            let expected = reference[name]!.values
            XCTAssertGreaterThan(expected.map(abs).max()!, 0.02, "\(name): reference output is nearly silent")
            let blueprint = exact(model.blueprint)
            var errors: [Float] = []
            for blocks in [[x.count], [1], [64], randomBlockSizes(count: 40, maxBlock: 300, seed: 7)] {
                let worst = maxDifference(render(blueprint, x, blocks: blocks), expected)
                XCTAssertLessThan(worst, 1e-5, "\(name) at blocks \(blocks.prefix(4)): max error \(worst)")
                errors.append(worst)
            }
            print("NAM parity \(name): max error \(errors.max()!) (peak \(expected.map(abs).max()!))")
        }
    }

    /// The default (fast tanh) networks stay close to the reference.
    func testFastActivationsStayCloseToTheReference() throws {
        let x = reference["input"]!.values
        for name in Self.cases where name != "linear" {
            let model = try load(name)
            XCTAssertEqual((model.blueprint as? NAMWaveNetBlueprint)?.precision ?? (model.blueprint as! NAMLSTMBlueprint).precision, .fast)
            let worst = maxDifference(render(model.blueprint, x, blocks: [64]), reference[name]!.values)
            XCTAssertLessThan(worst, 5e-5, "\(name): fast-tanh error \(worst)")
        }
    }

    /// A reset network plays like a fresh one, from any state.
    func testResetReturnsToTheSilenceState() throws {
        let x = reference["input"]!.values
        for name in ["wavenet-gated", "lstm", "linear"] {
            let blueprint = exact(try load(name).blueprint)
            let net = blueprint.makeNetwork()
            net.prepare(maxBlockSize: 512)
            var y = [Float](repeating: 0, count: 512)
            net.process(x, &y, frameCount: 512)
            net.reset()
            var z = [Float](repeating: 0, count: 512)
            net.process(x, &z, frameCount: 512)
            XCTAssertEqual(y, z, "\(name)")
        }
    }

    func testProcessAndResetAllocateNothing() throws {
        let x = reference["input"]!.values
        for name in ["wavenet-standard", "wavenet-gated-head", "lstm", "linear"] {
            let net = try load(name).blueprint.makeNetwork()
            net.prepare(maxBlockSize: 256)
            var y = [Float](repeating: 0, count: x.count)
            // Blocks shorter than a tile run frame by frame: both paths, taking turns.
            let blocks = [1, 3, 7] + randomBlockSizes(count: 30, maxBlock: 256, seed: 11)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    nfx_allocation_counting_begin()
                    var at = 0
                    for (i, b) in blocks.enumerated() where at + b <= x.count {
                        if i == 9 { net.reset() }
                        net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                        at += b
                    }
                    XCTAssertEqual(nfx_allocation_counting_end(), 0, "\(name): allocations in process/reset")
                }
            }
        }
    }

    func testMetadataBecomesInfoAndTheOutputLevelOption() throws {
        let model = try load("wavenet-standard")
        XCTAssertEqual(model.name, "wavenet-standard")
        XCTAssertEqual(model.sampleRate, 48000)
        XCTAssertEqual(model.knobs, .empty)
        XCTAssertEqual(model.blueprint.architectureName, "nam-wavenet")
        let info = Dictionary(model.info.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(info["gear"], "Random wavenet-standard (amp)")
        XCTAssertEqual(info["tone type"], "crunch")
        XCTAssertEqual(info["loudness"], "-17.50 dB")
        XCTAssertEqual(info["training ESR"], "0.0123")
        XCTAssertEqual(info["format"], "Neural Amp Modeler .nam 0.5.4")
        XCTAssertNil(info["sample rate in file"], "the fixture states its rate")
        XCTAssertTrue(info["architecture"]!.contains("receptive field 4093 samples"), info["architecture"]!)
        XCTAssertEqual(NAMModelFile.loudness(of: model), -17.5)
        XCTAssertEqual(NAMOutputLevel.raw.gainDecibels(for: model), 0)
        XCTAssertEqual(NAMOutputLevel.normalized.gainDecibels(for: model), -0.5, accuracy: 1e-9)
        XCTAssertEqual(NAMOutputLevel.normalized(targetDecibels: -12).gainDecibels(for: model), 5.5, accuracy: 1e-9)
        XCTAssertEqual(try load("lstm").blueprint.architectureName, "nam-lstm")
        XCTAssertEqual(try load("linear").blueprint.architectureName, "nam-linear")
    }
}
