import Foundation
import XCTest

/// Every refusal is one line on standard error and a failure status: never a
/// crash, a hang or libjack's own chatter.
final class BadInputTests: XCTestCase {
    func assertRefused(_ arguments: [String], mentions text: String, environment: [String: String] = [:],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try ChildProcess(fxhostPath, arguments + ["--no-ui"], environment: environment)
        defer { p.kill() }
        p.closeInput()
        let status = p.wait(15)
        XCTAssertEqual(status, 1, "\(arguments): \(p.standardError)", file: file, line: line)
        let lines = p.standardError.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "\(arguments): \(p.standardError)", file: file, line: line)
        XCTAssertTrue(p.standardError.hasPrefix("fxhost: error: "), p.standardError, file: file, line: line)
        XCTAssertTrue(p.standardError.contains(text), "\(arguments): \(p.standardError)", file: file, line: line)
    }

    func testNoServer() throws {
        try assertRefused(["--jack", "--server", "nfxtest-absent-\(getpid())"], mentions: "cannot connect to JACK server")
    }

    func testModelThatFailsToLoad() throws {
        try assertRefused(["--model", "no-such-model"], mentions: "cannot load model 'no-such-model'")
    }

    func testUnknownKnobAndBadMidiMap() throws {
        try assertRefused(["--knob", "drive=1"], mentions: "unknown knob 'drive'")
        try assertRefused(["--knob", "peak=7"], mentions: "outside its range")
        try assertRefused(["--midi-map", "cc300=peak"], mentions: "cc0..cc127")
        try assertRefused(["--alsa", "--device", "null", "--midi-map", "cc7=drive"], mentions: "unknown knob 'drive'")
        try assertRefused(["--alsa", "--device", "null", "--output-level", "loud"], mentions: "--output-level must be raw or normalized")
    }

    func testUnknownPortAndRefusedClient() throws {
        let server = try DummyJackServer()
        defer { server.stop() }
        try assertRefused(["--server", server.name, "--inputs", "nosuch:port"], mentions: "no JACK port named 'nosuch:port'")
        try assertRefused(["--server", server.name, "--connect", "nosuch:out"], mentions: "no JACK port named 'nosuch:out'")
        // JACK client names are limited to 63 characters.
        try assertRefused(["--server", server.name, "--name", String(repeating: "x", count: 200)], mentions: "refused client")
    }

    func testMissingAlsaDevice() throws {
        try assertRefused(["--alsa", "--device", "nfx_no_such_device"], mentions: "cannot open ALSA device 'nfx_no_such_device'")
    }

    func testCorruptModelFileAndBadPreset() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("broken.safetensors")
        try Data("not a model".utf8).write(to: model)
        try assertRefused(["--model", model.path], mentions: "cannot load model '\(model.path)'")
        let preset = dir.appendingPathComponent("bad.json")
        try Data("{\"knobs\": {\"peak\": 9}}".utf8).write(to: preset)
        try assertRefused(["--model", TestModels.a, "--preset", preset.path], mentions: "outside its range")
        try assertRefused(["--preset", "no-such-preset"], mentions: "cannot load preset 'no-such-preset'")
    }
}
