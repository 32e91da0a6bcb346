import Foundation
import NeuralFXHost
import XCTest

/// fxhost on ALSA's `file` plugin over `null`: capture reads a raw file
/// (`infile`), playback writes one, so the real ALSA path runs without
/// hardware. The config is passed through ALSA_CONFIG_PATH.
final class AlsaHostTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-alsa-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A config defining `fxtest`: capture from `input`, playback to `output`.
    func writeConfig(input: URL, output: URL) throws -> String {
        let config = directory.appendingPathComponent("asound.conf")
        try """
        pcm.fxtest {
            hint { show on; description "NeuralFX test device" }
            type asym
            playback.pcm { type file; slave.pcm null; file "\(output.path)"; format "raw" }
            capture.pcm { type file; slave.pcm null; file "/dev/null"; infile "\(input.path)"; format "raw" }
        }
        """.write(to: config, atomically: true, encoding: .utf8)
        return "/usr/share/alsa/alsa.conf:" + config.path
    }

    func testFileDeviceOutputMatchesOfflineRender() throws {
        let rate = 44100
        let signal = testSignal(count: 2 * rate, sampleRate: Double(rate))
        let input = directory.appendingPathComponent("in.raw"), output = directory.appendingPathComponent("out.raw")
        try signal.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: input)
        let configPath = try writeConfig(input: input, output: output)
        let knobs = ["peak=0.8", "mode=compress"]
        let seconds = 1.5
        let host = try ChildProcess(fxhostPath, ["--alsa", "--device", "fxtest", "--model", TestModels.a, "--rate", "\(rate)", "--period", "64",
                                                 "--periods", "2", "--no-ui", "--stats", "--duration", "\(seconds)"]
                                        + knobs.flatMap { ["--knob", $0] },
                                    environment: ["ALSA_CONFIG_PATH": configPath])
        defer { host.kill() }
        XCTAssertEqual(host.wait(30), 0, host.standardError)
        let stats = try XCTUnwrap(statistics(in: host.standardOutput), host.standardOutput)
        XCTAssertEqual(stats["frames"] as? Int, Int(seconds * Double(rate)))
        XCTAssertEqual(stats["callback_allocations"] as? Int, 0)
        XCTAssertEqual(stats["xruns"] as? Int, 0)

        let bytes = try Data(contentsOf: output)
        let recording = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let played = Int(seconds * Double(rate)) - 256
        let expected = try offlineRender(try TestModels.model(TestModels.a), knobs: knobs, input: Array(signal[..<played]))
        let (delay, error) = alignment(recording: recording, expected: expected, maxDelay: 256)
        XCTAssertLessThanOrEqual(error, 1e-6, "best delay \(delay)")
        XCTAssertEqual(delay, 128, "playback starts after the primed buffer (2 periods of 64)")
    }

    /// Stereo runs two instances of the model, one per channel, each equal to
    /// the mono offline render of its channel.
    func testStereoRunsOneInstancePerChannel() throws {
        let rate = 44100
        let left = testSignal(count: rate, sampleRate: Double(rate), seed: 7)
        let right = testSignal(count: rate, sampleRate: Double(rate), seed: 8).map { $0 * 0.5 }
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        let input = directory.appendingPathComponent("in.raw"), output = directory.appendingPathComponent("out.raw")
        try interleaved.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: input)
        let configPath = try writeConfig(input: input, output: output)
        let host = try ChildProcess(fxhostPath, ["--alsa", "--device", "fxtest", "--model", TestModels.a, "--channels", "2", "--period", "64",
                                                 "--no-ui", "--stats", "--duration", "0.5"],
                                    environment: ["ALSA_CONFIG_PATH": configPath])
        defer { host.kill() }
        XCTAssertEqual(host.wait(30), 0, host.standardError)
        let bytes = try Data(contentsOf: output)
        let recording = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let played = rate / 2 - 256
        let model = try TestModels.model(TestModels.a)
        for (c, signal) in [left, right].enumerated() {
            let channel = stride(from: c, to: recording.count, by: 2).map { recording[$0] }
            let expected = try offlineRender(model, knobs: [], input: Array(signal[..<played]))
            let (delay, error) = alignment(recording: channel, expected: expected, maxDelay: 256)
            XCTAssertLessThanOrEqual(error, 1e-6, "channel \(c), best delay \(delay)")
            XCTAssertEqual(delay, 128)
        }
    }

    func testListDevicesShowsConfiguredDevices() throws {
        let configPath = try writeConfig(input: directory.appendingPathComponent("in.raw"),
                                         output: directory.appendingPathComponent("out.raw"))
        let p = try ChildProcess(fxhostPath, ["--list-devices"], environment: ["ALSA_CONFIG_PATH": configPath])
        defer { p.kill() }
        XCTAssertEqual(p.wait(15), 0, p.standardError)
        XCTAssertTrue(p.standardOutput.contains("fxtest\tNeuralFX test device"), p.standardOutput)
    }
}
