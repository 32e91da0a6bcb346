import Foundation
import NeuralFXAudio
import NeuralFXModelFiles
import NeuralFXTools
import XCTest

/// fxrender at knob values other than the defaults equals micro-tcn's
/// PyTorch output from the first sample: the render starts as if the model
/// had sat in silence at the asked values (the fixture was made by
/// tools/make_microtcn_fixtures.py at mode=limit, peak=0.35; defaults are
/// compress and 0.5).
final class KnobStartParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NeuralFXModelFilesTests/Fixtures/microtcn")
    let modelPath = fixtures.appendingPathComponent("converted-checkpoint.safetensors").path
    let askedKnobs = ["mode=limit", "peak=0.35"]

    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func fixture() throws -> (input: [Float], output: [Float], conditioning: [Float]) {
        let io = try Safetensors.parse(Data(contentsOf: Self.fixtures.appendingPathComponent("converted-checkpoint-io.safetensors"))).tensors
        return (io["input"]!.values, io["output"]!.values, io["conditioning"]!.values)
    }

    func render(_ arguments: [String]) throws -> [Float] {
        let (input, _, _) = try fixture()
        try writeAudio(scratch.file("in.wav"), [input], sampleRate: 44100)
        let result = try runFXRender([scratch.file("in.wav"), scratch.file("out.wav"), "--force"] + arguments, home: scratch.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try AudioFileReader(path: scratch.file("out.wav")).readAll()[0]
    }

    func testKnobsOnTheCommandLineHoldFromTheFirstSample() throws {
        let (_, expected, conditioning) = try fixture()
        XCTAssertEqual(conditioning, [1, 0.35], "the fixture's setting")
        let y = try render(["--model", modelPath] + askedKnobs.flatMap { ["--knob", $0] })
        XCTAssertEqual(y.count, expected.count)
        let worst = zip(y, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertLessThan(abs(y[0] - expected[0]), 1e-5, "first sample")
        // At the defaults the output differs from the first sample on, so the
        // comparison above can tell a wrong starting state.
        let atDefaults = try render(["--model", modelPath])
        XCTAssertGreaterThan(zip(atDefaults.prefix(100), expected.prefix(100)).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testAPresetsKnobsHoldFromTheFirstSample() throws {
        let (_, expected, _) = try fixture()
        let preset = Preset(model: modelPath, knobs: [("mode", .position("limit")), ("peak", .number(0.35))])
        try preset.json().write(to: URL(fileURLWithPath: scratch.file("limit.json")))
        let y = try render(["--preset", scratch.file("limit.json")])
        XCTAssertLessThan(zip(y, expected).map { abs($0 - $1) }.max()!, 1e-5)
    }
}
