import Foundation
import NeuralFXAudio
import NeuralFXModelFiles
import NeuralFXTools
import XCTest

/// The shipped model of a real Tube-Tech CL 1B: found by name, its four
/// knobs, the credit its recordings ask for, and a threshold that works.
/// (It was trained from ../shared/data by tools/train_cl1b.sh; this suite
/// only loads the shipped file.)
final class ShippedCL1BTests: XCTestCase {
    func testLoadsByNameWithItsKnobsAndProvenance() throws {
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let model = try ModelFile.load(path: try ModelCatalog(roots: [(root, false)]).resolve("cl1b", kind: .model))
        XCTAssertEqual(model.knobs.names, ["attack", "release", "ratio", "threshold"])
        XCTAssertEqual(model.sampleRate, 44100)
        let info = Dictionary(model.info.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(info["data_license"], "LGPL-3.0")
        XCTAssertTrue(info["data_source"]?.contains("RiccardoVib/CONDITIONED-MODELING-OF-OPTICAL-COMPRESSOR") ?? false, "\(info)")
        XCTAssertTrue(info["cite"]?.contains("Simionato") ?? false, "\(info)")
        XCTAssertEqual(info["dataset_layout"], "CL 1B (knobs from file names)")
    }

    /// Threshold runs from 0 to -40 dBu: turned up, the demo clip comes out
    /// quieter step by step (the shipped file: -26.2, -29.2, -35.5 LUFS at
    /// ratio 2:1).
    func testThresholdTurnsTheLevelDown() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        var loudness: [Double] = []
        for threshold in ["0", "0.5", "1"] {
            let out = scratch.file("out-\(threshold).wav")
            let result = try runFXRender([root + "/examples/drums-and-bass.flac", out, "--model", "cl1b",
                                          "--knob", "ratio=0", "--knob", "threshold=\(threshold)"], home: scratch.path)
            XCTAssertEqual(result.status, 0, result.stderr)
            let output = try AudioFileReader(path: out).readAll()[0]
            XCTAssertTrue(output.allSatisfy(\.isFinite))
            let meter = LoudnessMeter(sampleRate: 44100, channels: 1)
            output.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: output.count) }
            loudness.append(meter.integratedLoudness)
        }
        XCTAssertLessThan(loudness[1], loudness[0] - 1.5, "\(loudness)")
        XCTAssertLessThan(loudness[2], loudness[1] - 3, "\(loudness)")
    }
}
