import Foundation
import XCTest
import NeuralFXAudio
import NeuralFXCore
import NeuralFXModelFiles

/// `fxtrain train --arch nam-*` end to end: a tiny WaveNet trained for a few
/// steps on overdrive pairs from `fxtrain dataset` at one knob setting writes
/// a .nam file that loads as NAM's WaveNet and renders with fxrender; on
/// pairs at several settings it takes the knobs and writes a safetensors
/// model that fxrender plays at any knob setting; wrong outputs get one-line
/// refusals.
final class FXTrainWaveNetTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "fxtrain-wavenet-\(getpid())-\(name.filter { $0.isLetter })"
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

    /// Overdrive datasets: pairs at several knob settings, and pairs all at one setting (a capture of it).
    func overdrivePair() throws -> (knobs: String, single: String) {
        let made = try run("fxtrain", ["dataset", "--device", "overdrive", "--minutes", "0.2", "--out", directory + "/od"])
        XCTAssertEqual(made.status, 0, made.error)
        let single = try run("fxtrain", ["dataset", "--device", "overdrive", "--minutes", "0.2", "--out", directory + "/single",
                                         "--setting", "drive=0.8,tone=0.5,level=1"])
        XCTAssertEqual(single.status, 0, single.error)
        return (directory + "/od", directory + "/single")
    }

    func testDatasetSettingMustNameEveryKnobInRange() throws {
        for (setting, text) in [("drive=0.8,tone=0.5", "give every knob; 'level' is missing"),
                                ("drive=2,tone=0.5,level=1", "drive 2.0 is outside 0.0...1.0"),
                                ("drive=0.8,fuzz=1", "overdrive has no knob 'fuzz'")] {
            let r = try run("fxtrain", ["dataset", "--device", "overdrive", "--minutes", "0.1", "--out", directory + "/x",
                                        "--setting", setting])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.error.split(separator: "\n").count, 1, r.error)
            XCTAssertTrue(r.error.contains(text), r.error)
        }
    }

    func testTrainsAWaveNetIntoANAMFileThatRenders() throws {
        let data = try overdrivePair()
        let model = directory + "/drive.nam"
        let r = try run("fxtrain", ["train", data.single, "--arch", "nam-nano", "--out", model, "--steps", "4", "--batch", "2",
                                    "--chunk", "1024", "--val-every", "2", "--eval-seconds", "1"])
        XCTAssertEqual(r.status, 0, r.output + r.error)
        XCTAssertTrue(r.output.contains("model: nam-nano, 842 parameters, receptive field 4093"), r.output)
        XCTAssertTrue(r.output.contains("lr 0.004"), "NAM's learning rate by default: \(r.output)")
        let loaded = try ModelFile.load(path: model)
        let blueprint = try XCTUnwrap(loaded.blueprint as? NAMWaveNetBlueprint)
        XCTAssertEqual(blueprint.config.layerArrays.map(\.channels), [4, 2])
        XCTAssertEqual(blueprint.headScale, 0.02, "NAM holds head_scale fixed")
        XCTAssertEqual(loaded.sampleRate, 44100)
        XCTAssertTrue(loaded.info.contains { $0.key == "training ESR" }, "\(loaded.info)")
        // Trained: not the training start any more.
        let fresh = try XCTUnwrap(loaded.blueprint as? NAMWaveNetBlueprint).config.trainingStart(seed: 1)
        XCTAssertNotEqual(blueprint.weights, fresh)
        let rendered = directory + "/rendered.wav"
        let render = try run("fxrender", [data.knobs + "/train/001-input.wav", rendered, "--model", model])
        XCTAssertEqual(render.status, 0, render.error)
        let reader = try AudioFileReader(path: rendered)
        XCTAssertEqual(reader.sampleRate, 44100)
        XCTAssertGreaterThan(reader.frames, 44100)
    }

    func testRefusesKnobsAndOtherOutputs() throws {
        let data = try overdrivePair()
        for (arguments, text) in [
            ([data.knobs, "--out", directory + "/x.nam"], "a .nam file cannot hold knobs, and this WaveNet takes the dataset's 2 knob inputs: give --out NAME.safetensors"),
            ([data.single, "--out", directory + "/x.safetensors"], "give --out NAME.nam"),
            ([data.single, "--out", directory + "/x.nam", "--channels", "4"], "--channels sets micro-tcn's width"),
        ] {
            let r = try run("fxtrain", ["train"] + arguments + ["--arch", "nam-nano", "--steps", "1"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.error.split(separator: "\n").count, 1, r.error)
            XCTAssertTrue(r.error.contains(text), r.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.nam"))
        }
    }

    func testTrainsAKnobWaveNetIntoASafetensorsModelThatRendersAtItsKnobs() throws {
        let data = try overdrivePair()
        let model = directory + "/drive.safetensors"
        let r = try run("fxtrain", ["train", data.knobs, "--arch", "nam-nano", "--out", model, "--steps", "4", "--batch", "2",
                                    "--chunk", "1024", "--val-every", "2", "--eval-seconds", "1"])
        XCTAssertEqual(r.status, 0, r.output + r.error)
        // nano's 842 weights plus a drive and a tone column in each of its 20 layers' mixers (7 of 4 channels, 13 of 2).
        XCTAssertTrue(r.output.contains("model: nam-nano, 950 parameters, receptive field 4093"), r.output)
        let loaded = try ModelFile.load(path: model)
        let blueprint = try XCTUnwrap(loaded.blueprint as? NAMWaveNetBlueprint)
        XCTAssertEqual(blueprint.config.layerArrays.map(\.conditionSize), [3, 3])
        XCTAssertEqual(loaded.knobs.names, ["drive", "tone", "level"])
        // The level knob stays an output gain applied outside the network, as in micro-tcn models.
        XCTAssertEqual(loaded.knobs.knobs[2].conditioningIndex, nil)
        XCTAssertEqual(loaded.knobs.knobs[2].outputGainDecibels, [-36, 0])
        XCTAssertEqual(loaded.sampleRate, 44100)
        let info = try run("fxrender", ["--model", model, "--info"])
        XCTAssertEqual(info.status, 0, info.error)
        XCTAssertTrue(info.output.contains("nam-wavenet"), info.output)
        XCTAssertTrue(info.output.contains("drive"), info.output)
        var rendered: [[Float]] = []
        for drive in ["0.7", "0.1"] {
            let path = directory + "/rendered-\(drive).wav"
            let render = try run("fxrender", [data.knobs + "/train/001-input.wav", path, "--model", model, "--knob", "drive=" + drive])
            XCTAssertEqual(render.status, 0, render.error)
            let reader = try AudioFileReader(path: path)
            XCTAssertEqual(reader.sampleRate, 44100)
            var samples = [Float](repeating: 0, count: Int(reader.frames) * reader.channels)
            let n = try samples.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxFrames: Int(reader.frames)) }
            XCTAssertGreaterThan(n, 44100)
            rendered.append(samples)
        }
        XCTAssertTrue(rendered[0].allSatisfy(\.isFinite))
        XCTAssertGreaterThan(zip(rendered[0], rendered[1]).map { abs($0 - $1) }.max()!, 1e-6, "the drive knob changes the sound")
        let unknown = try run("fxrender", [data.knobs + "/train/001-input.wav", directory + "/x.wav", "--model", model, "--knob", "fuzz=1"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.error.contains("unknown knob 'fuzz'"), unknown.error)
    }

    func testHelpListsNAMArchitectures() throws {
        let r = try run("fxtrain", ["train", "--help"])
        for name in ["nam-standard", "nam-lite", "nam-feather", "nam-nano"] { XCTAssertTrue(r.output.contains(name), name) }
        // The help wraps its lines wherever the terminal width puts them.
        let text = r.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(text.contains("several settings the knobs become extra condition inputs"), r.output)
    }
}
