import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles

/// The three example captures from NeuralAmpModelerCore (tiny WaveNet, LSTM,
/// standard WaveNet) against the reference implementation's output for a
/// test signal (made by tools/make_nam_fixtures.py; the captures themselves
/// stay in ../shared/data).
final class NAMRealCaptureTests: XCTestCase {
    static let captures = ["wavenet", "lstm", "wavenet_a1_standard"]

    func testEveryCaptureRendersLikeTheReference() throws {
        let io = try Safetensors.parse(Data(contentsOf: realDataFixture("nam-real-reference.safetensors"))).tensors
        let x = io["input"]!.values
        for name in Self.captures {
            let model = try ModelFile.load(path: try sharedData("nam/\(name).nam"))
            XCTAssertEqual(model.sampleRate, 48000, name)
            XCTAssertEqual(model.knobs, .empty, name)
            let expected = io[name]!.values
            let whole = render(exact(model.blueprint), x, blocks: [x.count])
            let worst = maxDifference(whole, expected)
            XCTAssertLessThan(worst, 1e-5, "\(name): max error against the reference \(worst)")
            print("NAM real capture \(name): max error \(worst) (peak \(expected.map(abs).max()!))")
            let streamed = render(exact(model.blueprint), x, blocks: randomBlockSizes(count: 50, maxBlock: 200, seed: 5))
            XCTAssertLessThanOrEqual(maxDifference(streamed, whole), 1e-6, "\(name): streaming differs from whole-file")
            let fast = render(model.blueprint, x, blocks: [64])
            XCTAssertTrue(fast.allSatisfy(\.isFinite), name)
            XCTAssertLessThan(maxDifference(fast, expected), 5e-5, "\(name): default precision")
            let rms = (fast.reduce(0) { $0 + Double($1 * $1) } / Double(fast.count)).squareRoot()
            let db = 20 * log10(rms)
            XCTAssertTrue(db > -50 && db < 0, "\(name): output level \(db) dBFS")
        }
    }

    func testInfoShowsTheCaptureMetadata() throws {
        let model = try ModelFile.load(path: try sharedData("nam/wavenet.nam"))
        let info = Dictionary(model.info.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(model.name, "Test Model")
        XCTAssertEqual(info["gear"], "Darkglass Electronics Microtubes 900 v2 (amp)")
        XCTAssertEqual(info["tone type"], "clean")
        XCTAssertEqual(info["loudness"], "-20.02 dB")
        XCTAssertEqual(info["training ESR"], "0.13345033695550146")
        XCTAssertEqual(NAMOutputLevel.normalized.gainDecibels(for: model), -18 + 20.020729064941406, accuracy: 0.01)
        let standard = try ModelFile.load(path: try sharedData("nam/wavenet_a1_standard.nam"))
        XCTAssertTrue(standard.info.contains { $0.key == "sample rate in file" && $0.value.contains("48000 Hz") })
    }
}

private func render(_ blueprint: any NetworkBlueprint, _ x: [Float], blocks: [Int]) -> [Float] {
    let net = blueprint.makeNetwork()
    net.prepare(maxBlockSize: blocks.max()!)
    var y = [Float](repeating: 0, count: x.count)
    var at = 0, i = 0
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            while at < x.count {
                let n = min(blocks[i % blocks.count], x.count - at)
                net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: n)
                at += n
                i += 1
            }
        }
    }
    return y
}

private func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }

private func randomBlockSizes(count: Int, maxBlock: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed)
    return [1, maxBlock] + (0..<count).map { _ in 1 + Int(rng.next() % UInt64(maxBlock)) }
}

private func exact(_ blueprint: any NetworkBlueprint) -> any NetworkBlueprint {
    if let wave = blueprint as? NAMWaveNetBlueprint { return wave.with(precision: .exact) }
    if let lstm = blueprint as? NAMLSTMBlueprint { return lstm.with(precision: .exact) }
    return blueprint
}
