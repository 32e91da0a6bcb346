import Foundation
import NeuralFXCapture
import XCTest

/// fxtrain capture through ALSA's `file` plugin over `null`: what is sent is
/// written to a raw file; the return is read from a raw file the test
/// prepares at each prompt by rendering that setting's signal through the
/// la2a simulation, delayed and inverted (the gear, played by the test as the
/// user turning its knob and pressing Enter).
final class AlsaCaptureTests: XCTestCase {
    static let delay = 211

    func testCaptureThroughTheFilePlugin() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let returnFile = dir + "/return.raw", sendFile = dir + "/send.raw"
        let config = dir + "/asound.conf"
        try """
        pcm.fxcapture {
            type asym
            playback.pcm { type file; slave.pcm null; file "\(sendFile)"; format "raw" }
            capture.pcm { type file; slave.pcm null; file "/dev/null"; infile "\(returnFile)"; format "raw" }
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        // The device exists from the start; its return is written at each prompt.
        FileManager.default.createFile(atPath: returnFile, contents: Data())
        let rate = 44100, seconds = 20.0
        let spec = try CaptureSignalSpec(sampleRate: rate, seconds: seconds, levelDBFS: -12)
        let data = dir + "/data"
        let capture = try Tool(fxtrainPath, ["capture", "--alsa", "--device", "fxcapture", "--rate", "\(rate)", "--knobs", "peak=0.3,0.8",
                                             "--out", data, "--seconds", "\(Int(seconds))", "--no-examples", "--stats"],
                               environment: ["ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf:" + config])
        var lastSignal: CaptureSignal?
        // Setting 1, then "r" at setting 2's prompt (the knob was bumped): setting 1 again, then 2.
        var prompts: [String: Int] = [:]
        for (setting, peak, answer) in [(1, 0.3, ""), (2, 0.8, "r"), (1, 0.3, ""), (2, 0.8, "")] {
            let prompt = "setting \(setting)/2: set PEAK to \(peak), then press Enter"
            prompts[prompt, default: 0] += 1
            XCTAssertTrue(capture.waitFor(prompt, count: prompts[prompt]!, seconds: 60), capture.transcript)
            if answer == "r" {
                capture.send("r")
                continue
            }
            // The gear's return for this setting's signal, as the interface would record it.
            let signal = CaptureSignal.make(spec, setting: setting - 1)
            let rendered = deviceRender(signal.samples, knobs: ["peak": peak])
            var recorded = [Float](repeating: 0, count: Self.delay + rendered.count + 8192 + rate)
            for i in rendered.indices { recorded[Self.delay + i] = -rendered[i] }
            try recorded.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: returnFile))
            capture.send("")
            lastSignal = signal
        }
        XCTAssertEqual(capture.wait(60), 0, capture.transcript)
        XCTAssertEqual(capture.standardOutput.components(separatedBy: "setting 1/2 kept").count - 1, 2, capture.transcript)

        let stats = try statistics(capture.standardOutput)
        XCTAssertEqual(stats["callback_allocations"] as? Int, 0)
        XCTAssertEqual(stats["xruns"] as? Int, 0)
        let found = try calibrations(data)
        XCTAssertEqual(found.map { $0["latency"] as? Int }, [Self.delay, Self.delay], capture.transcript)
        XCTAssertEqual(found.map { $0["polarity_inverted"] as? Bool }, [true, true])
        let (error, pairs) = try largestDifferenceFromTheDevice(data)
        XCTAssertEqual(pairs, 2)
        XCTAssertLessThanOrEqual(error, 1e-5)
        print("ALSA capture: latency \(found.map { $0["latency"]! }) samples (put in: \(Self.delay)), largest difference from the device's render \(error)")

        // What went out: silence while the buffer primed, then the last setting's signal, never above the level.
        let sent = try Data(contentsOf: URL(fileURLWithPath: sendFile)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let signal = try XCTUnwrap(lastSignal).samples
        let firstSignal = try XCTUnwrap(signal.firstIndex { $0 != 0 }), firstSent = try XCTUnwrap(sent.firstIndex { $0 != 0 })
        let offset = firstSent - firstSignal
        XCTAssertGreaterThanOrEqual(offset, 0)
        XCTAssertGreaterThanOrEqual(sent.count, offset + signal.count)
        XCTAssertEqual(Array(sent[offset..<min(sent.count, offset + signal.count)]), signal)
        XCTAssertLessThanOrEqual(sent.map(abs).max() ?? 1, spec.ceiling)
    }

    /// A device that does not exist, bad options: one line, non-zero, nothing written.
    func testBadInputIsOneLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], String)] = [
            (["--alsa", "--device", "nfx-no-such-device", "--knobs", "peak=0,1"], "cannot open ALSA device 'nfx-no-such-device'"),
            (["--alsa", "--device", "null", "--knobs", "peak=0,1", "--level", "0"], "--level must be within -60...-1 dBFS"),
            (["--alsa", "--device", "null", "--knobs", "peak=0,x"], "mixes numbers and names"),
            (["--alsa", "--device", "null", "--plan", dir + "/missing.json"], "cannot read the plan file"),
            (["--alsa", "--device", "null", "--knobs", "peak=0,1", "--seconds", "3"], "--seconds must be within"),
            (["--jack", "--alsa", "--knobs", "peak=0,1"], "give --jack or --alsa"),
            (["--alsa", "--knobs", "peak=0,1"], "--alsa needs --device"),
            (["--jack", "--server", "nfx-no-such-server", "--knobs", "peak=0,1"], "cannot connect to JACK server 'nfx-no-such-server'"),
        ]
        for (arguments, expected) in cases {
            let tool = try Tool(fxtrainPath, ["capture", "--out", dir + "/data"] + arguments)
            let status = tool.wait(30)
            XCTAssertNotNil(status, "\(arguments) hung")
            XCTAssertNotEqual(status, 0, "\(arguments)")
            let lines = tool.standardError.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(arguments): \(tool.transcript)")
            XCTAssertTrue(tool.standardError.contains(expected), "\(arguments): \(tool.transcript)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/data/manifest.json"))
        }
    }
}
