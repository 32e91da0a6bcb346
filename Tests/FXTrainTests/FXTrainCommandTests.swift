import Foundation
import XCTest
import NeuralFXAudio
import NeuralFXCore
import NeuralFXModelFiles

/// The fxtrain executable end to end: bad input gives one clear line and a
/// non-zero exit; a short run on a small dataset writes a model that loads,
/// with test metrics in its metadata, the CSV log and both plots.
final class FXTrainCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "fxtrain-tests-\(getpid())-\(name.filter { $0.isLetter })"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    var executable: String {
        // The test bundle sits in the build products folder that also holds fxtrain.
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("fxtrain").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func write(_ samples: [Float], _ name: String, rate: Int = 8000) throws {
        let w = try AudioFileWriter(path: (directory as NSString).appendingPathComponent(name), sampleRate: rate, channels: 1, sampleFormat: .float)
        try samples.withUnsafeBufferPointer { try w.write($0.baseAddress!, frames: samples.count) }
        try w.finish()
    }

    func signal(_ seconds: Double, rate: Int = 8000, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<Int(seconds * Double(rate))).map { i in
            0.5 * Float.sin(Float(i) * 0.05) * (0.3 + 0.7 * Float(i % 4000) / 4000) + 0.05 * rng.nextFloat(in: -1...1)
        }
    }

    func expectFailure(_ arguments: [String], containing text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(arguments)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.error.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(r.error)", file: file, line: line)
        XCTAssertTrue(r.error.contains(text), "\(r.error)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/model.safetensors"), file: file, line: line)
    }

    func testEmptyFolder() throws {
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5"], containing: "has no audio pairs")
    }

    func testUnpairedSignalTrainFile() throws {
        try FileManager.default.createDirectory(atPath: directory + "/Train", withIntermediateDirectories: true)
        try write(signal(1, seed: 1), "Train/input_1_.wav")
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5"], containing: "has no target_1_* file")
    }

    func testUnreadableAudio() throws {
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: directory + "/in.wav"))
        try write(signal(1, seed: 1), "out.wav")
        try Data(#"{"pairs":[{"input":"in.wav","target":"out.wav","knobs":{"drive":0.5}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/manifest.json"))
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5"], containing: "cannot read")
    }

    func testMismatchedRates() throws {
        try write(signal(1, seed: 1), "in.wav")
        try write(signal(1, rate: 16000, seed: 2), "out.wav", rate: 16000)
        try Data(#"{"pairs":[{"input":"in.wav","target":"out.wav","knobs":{"drive":0.5}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/manifest.json"))
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5"], containing: "16000 Hz")
    }

    func testMissingKnobValue() throws {
        try write(signal(1, seed: 1), "in.wav")
        try write(signal(1, seed: 2), "out.wav")
        try write(signal(1, seed: 3), "out2.wav")
        try Data(#"{"pairs":[{"input":"in.wav","target":"out.wav","knobs":{"drive":0.5}},{"input":"in.wav","target":"out2.wav","knobs":{}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/manifest.json"))
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5"], containing: "no value for knob 'drive'")
    }

    func writeClipperDataset() throws {
        var entries: [String] = []
        for (i, drive) in [0.0, 0.5, 1.0].enumerated() {
            let x = signal(4, seed: UInt64(i + 1))
            let g = Float(1 + 4 * drive)
            try write(x, "in\(i).wav")
            try write(x.map { Float.tanh(g * $0) / g }, "out\(i).wav")
            entries.append(#"{"input":"in\#(i).wav","target":"out\#(i).wav","knobs":{"drive":\#(drive)}}"#)
        }
        try Data(#"{"sample_rate":8000,"pairs":[\#(entries.joined(separator: ","))]}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/manifest.json"))
    }

    func testMissingOutputFolderFailsBeforeTraining() throws {
        try writeClipperDataset()
        try expectFailure([directory, "--out", directory + "/absent/model.safetensors", "--steps", "5"],
                          containing: "does not exist")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/absent"))
    }

    func testUnknownActivation() throws {
        try writeClipperDataset()
        try expectFailure([directory, "--out", directory + "/model.safetensors", "--steps", "5", "--activation", "swish2"],
                          containing: "unknown activation 'swish2'")
    }

    func testGainRatioIsRefusedByName() throws {
        try writeClipperDataset()
        let base = [directory, "--out", directory + "/model.safetensors", "--steps", "5"]
        try expectFailure(base + ["--gain-ratio", "mode=3"], containing: "one ratio per position")
        try expectFailure(base + ["--gain-ratio", "0.9"], containing: "above 1")
        try expectFailure(base + ["--arch", "utcn-100-c", "--gain-ratio", "4"], containing: "gain computer")
        try expectFailure(base + ["--arch", "utcn-10-c-gain-cell", "--gain-ratio", "drive=3,10"], containing: "two-position switch")
    }

    func testShortRunWritesModelLogAndPlots() throws {
        try writeClipperDataset()
        let model = directory + "/model.safetensors"
        let r = try run([directory, "--arch", "utcn-100-c", "--out", model, "--steps", "6", "--batch", "2", "--chunk", "1024",
                         "--val-every", "3", "--eval-seconds", "1", "--activation", "snake", "--channels", "8",
                         "--description", "a test clipper", "--data-source", "recorded by the test",
                         "--data-license", "CC0-1.0", "--cite", "Paper A", "--cite", "Paper B"])
        XCTAssertEqual(r.status, 0, r.output + r.error)
        XCTAssertTrue(r.output.contains("test metrics"), r.output)
        XCTAssertTrue(r.output.contains("best gain per knob setting"), r.output)
        let loaded = try ModelFile.load(path: model)
        XCTAssertEqual(loaded.knobs.names, ["drive"])
        let config = try XCTUnwrap(loaded.blueprint as? MicroTCNWeights).config
        XCTAssertEqual(config.channelWidth, 8)
        XCTAssertEqual(config.activation, .snake)
        XCTAssertEqual(config.residualDelay, 0)
        // Silence in, silence out, at every knob value.
        XCTAssertTrue(config.silenceReferenced)
        for drive in [0.0, 0.5, 1.0] {
            let engine = EffectEngine(model: loaded, maxBlockSize: 256)
            engine.setKnob(0, to: drive)
            var y = [Float](repeating: 1, count: 8000)
            let silence = [Float](repeating: 0, count: 8000)
            engine.process(silence, &y, frameCount: 8000)
            XCTAssertLessThan(y.map(abs).max()!, 1e-6, "drive \(drive)")
        }
        // Not a terminal: one plain line per validation (steps 3 and 6), none rewritten in place.
        XCTAssertFalse(r.error.contains("\r"), r.error)
        XCTAssertEqual(r.error.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.map { $0.split(separator: " ")[3] },
                       ["3", "6"], r.error)
        XCTAssertEqual(loaded.info.first { $0.key == "description" }?.value, "a test clipper")
        XCTAssertEqual(loaded.info.first { $0.key == "trained_on" }?.value, "the paired recordings in \(directory)")
        XCTAssertEqual(loaded.info.first { $0.key == "data_source" }?.value, "recorded by the test")
        XCTAssertEqual(loaded.info.first { $0.key == "data_license" }?.value, "CC0-1.0")
        XCTAssertEqual(loaded.info.first { $0.key == "cite" }?.value, #"["Paper A","Paper B"]"#)
        XCTAssertTrue(loaded.info.first { $0.key == "command" }?.value.hasPrefix("fxtrain ") ?? false, "\(loaded.info)")
        // Provenance entries show up in the model's info.
        let test = try XCTUnwrap(loaded.info.first { $0.key == "test_overall" }?.value, "\(loaded.info)")
        XCTAssertTrue(test.contains("\"esr\"") && test.contains("loudness_error_lu") && test.contains("\"stft\"")
                      && test.contains("fixed_gain_esr"), test)
        XCTAssertEqual(loaded.info.first { $0.key == "steps" }?.value, "6")
        XCTAssertNotNil(loaded.info.first { $0.key == "test_per_setting" })
        for side in ["-log.csv", "-loss.svg", "-test.svg", ".checkpoint"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/model" + side), side)
        }
        let csv = try String(contentsOfFile: directory + "/model-log.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3, csv)
        // The same output again is refused rather than overwritten.
        let again = try run([directory, "--out", model, "--steps", "2"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.error.contains("already exists"), again.error)
        // Resuming continues from the checkpoint to a later step.
        let resumed = try run([directory, "--out", directory + "/model2.safetensors", "--resume", directory + "/model.checkpoint",
                               "--steps", "9"])
        XCTAssertEqual(resumed.status, 0, resumed.output + resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming at step 6") && resumed.output.contains("at step 9"), resumed.output)
        // The resumed model names both sessions: the first as its command, the resume after it.
        let info = try ModelFile.load(path: directory + "/model2.safetensors").info
        let command = try XCTUnwrap(info.first { $0.key == "command" }?.value, "\(info)")
        XCTAssertTrue(command.contains("--steps 6") && command.hasSuffix("--cite Paper A --cite Paper B"), command)
        let resumedWith = try XCTUnwrap(info.first { $0.key == "resumed_with" }?.value, "\(info)")
        XCTAssertTrue(resumedWith.contains("--resume") && resumedWith.hasSuffix("--steps 9"), resumedWith)
    }

    func testCtrlCSavesACheckpointThatResumes() throws {
        try writeClipperDataset()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = [directory, "--arch", "utcn-100-c", "--out", directory + "/model.safetensors", "--steps", "100000",
                       "--batch", "2", "--chunk", "1024", "--val-every", "1000"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        // Wait until training has started (the live line appears), then interrupt.
        var seen = ""
        while !seen.contains(" step ") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        p.interrupt()
        _ = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/model.safetensors"), "no model from an interrupted run")
        let checkpoint = directory + "/model.checkpoint"
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        let resumed = try run([directory, "--out", directory + "/model.safetensors", "--resume", checkpoint, "--steps", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming at step"), resumed.output)
    }
}
