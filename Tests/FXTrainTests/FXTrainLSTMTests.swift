import Foundation
import XCTest
import NeuralFXAudio
import NeuralFXCore
import NeuralFXModelFiles

/// `fxtrain train --arch nam-lstm` end to end: NAM's LSTM trained for a few
/// steps on overdrive pairs from `fxtrain dataset` at one knob setting
/// writes a .nam file that loads as NAM's LSTM and renders with fxrender;
/// knob datasets and options of other architectures get one-line refusals;
/// `fxtrain throughput` runs it.
final class FXTrainLSTMTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "fxtrain-lstm-\(getpid())-\(name.filter { $0.isLetter })"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func tool(_ name: String) -> String {
        // The test bundle sits in the build products folder that also holds the executables.
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent(name).path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool(name))
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Overdrive pairs all at one knob setting (a capture of it), or at several.
    func overdrive(setting: Bool) throws -> String {
        let folder = directory + (setting ? "/single" : "/od")
        let made = try run("fxtrain", ["dataset", "--device", "overdrive", "--minutes", "0.2", "--out", folder]
                           + (setting ? ["--setting", "drive=0.8,tone=0.5,level=1"] : []))
        XCTAssertEqual(made.status, 0, made.error)
        return folder
    }

    func testTrainsAnLSTMIntoANAMFileThatRenders() throws {
        let data = try overdrive(setting: true)
        let model = directory + "/drive.nam"
        let r = try run("fxtrain", ["train", data, "--arch", "nam-lstm", "--out", model, "--steps", "4", "--batch", "2",
                                    "--chunk", "1024", "--burn-in", "512", "--val-every", "2", "--eval-seconds", "1"])
        XCTAssertEqual(r.status, 0, r.output + r.error)
        XCTAssertTrue(r.output.contains("model: nam-lstm, 6895 parameters, receptive field 1"), r.output)
        XCTAssertTrue(r.output.contains("lr 0.008"), "NAM's LSTM learning rate by default: \(r.output)")
        let loaded = try ModelFile.load(path: model)
        let blueprint = try XCTUnwrap(loaded.blueprint as? NAMLSTMBlueprint)
        XCTAssertEqual([blueprint.layers, blueprint.hiddenSize, blueprint.inputSize], [3, 18, 1])
        XCTAssertEqual(loaded.sampleRate, 44100)
        XCTAssertTrue(loaded.info.contains { $0.key == "training ESR" }, "\(loaded.info)")
        let rendered = directory + "/rendered.wav"
        let render = try run("fxrender", [data + "/train/001-input.wav", rendered, "--model", model])
        XCTAssertEqual(render.status, 0, render.error)
        let reader = try AudioFileReader(path: rendered)
        XCTAssertEqual(reader.sampleRate, 44100)
        XCTAssertGreaterThan(reader.frames, 44100)
    }

    func testRefusesKnobsAndOptionsOfOtherArchitectures() throws {
        let knobs = try overdrive(setting: false)
        for (arguments, text) in [
            ([knobs, "--arch", "nam-lstm", "--out", directory + "/x.nam"], "NAM's LSTM takes no knobs but the dataset's pairs are at 2 knob settings"),
            ([knobs, "--arch", "nam-lstm", "--out", directory + "/x.safetensors"], "NAM's LSTM is written as a .nam file: give --out NAME.nam"),
            ([knobs, "--arch", "nam-lstm", "--out", directory + "/x.nam", "--layers", "5"], "an LSTM's layers must be in 1...4"),
            ([knobs, "--arch", "nam-nano", "--out", directory + "/x.nam", "--burn-in", "100"], "--burn-in and --truncate are nam-lstm's"),
        ] {
            let r = try run("fxtrain", ["train"] + arguments + ["--steps", "1"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.error.split(separator: "\n").count, 1, r.error)
            XCTAssertTrue(r.error.contains(text), r.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.nam"))
        }
    }

    func testHelpListsNAMsLSTM() throws {
        let r = try run("fxtrain", ["train", "--help"])
        for option in ["nam-lstm", "--burn-in", "--truncate", "--hidden-size", "--layers"] {
            XCTAssertTrue(r.output.contains(option), option)
        }
    }

    func testThroughputRunsTheLSTM() throws {
        let r = try run("fxtrain", ["throughput", "--arch", "nam-lstm", "--batch", "2", "--chunk", "256", "--steps", "1", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertTrue(r.output.contains("fxtrain nam-lstm batch 2 chunk 256 threads 1:"), r.output)
        XCTAssertTrue(r.output.contains("6895 parameters"), r.output)
    }
}
