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
        let host = try ChildProcess(fxhostPath, ["--alsa", "--device", "fxtest", "--rate", "\(rate)", "--period", "64",
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
        let expected = try offlineRender(try ModelSource.resolve("test"), knobs: knobs, input: Array(signal[..<played]))
        let (delay, error) = alignment(recording: recording, expected: expected, maxDelay: 256)
        XCTAssertLessThanOrEqual(error, 1e-6, "best delay \(delay)")
        XCTAssertEqual(delay, 128, "playback starts after the primed buffer (2 periods of 64)")
    }
}
