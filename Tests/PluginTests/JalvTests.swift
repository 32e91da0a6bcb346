import Foundation
import XCTest

/// jalv, Debian's reference host, runs the loader live against a dummy JACK
/// server the test starts: models arrive through saved state naming the file
/// parameter (jalv's console loads presets; it has no file chooser), good
/// files and bad ones in turn, while an allocation counter preloaded into
/// jalv watches every run() call.
final class JalvTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws {
        try Built.requireBundle()
        scratch = try Scratch()
    }

    func testLoaderSwitchesModelsInJalvWithoutAllocatingAndSurvivesBadFiles() throws {
        let fixtures = fixturesDirectory + "/nam"
        let truncated = scratch.file("truncated.nam")
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/lstm.nam"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        let wrongKind = scratch.file("not-a-model.safetensors")
        try writeAudio(scratch.file("audio.wav"), [[0, 0.5, -0.5]], sampleRate: 48000)
        try FileManager.default.moveItem(atPath: scratch.file("audio.wav"), toPath: wrongKind)
        let fifo = scratch.file("fifo.nam")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let presets = try PresetBundle(in: scratch, files: [
            ("lstm", fixtures + "/lstm.nam"),
            ("la2a", modelsDirectory + "/la2a.safetensors"),
            ("missing", scratch.file("gone.nam")),
            ("truncated", truncated),
            ("wrongkind", wrongKind),
            ("fifo", fifo),
            ("directory", scratch.path),
            ("wavenet", fixtures + "/wavenet-lite.nam"),
        ])
        let jack = try DummyJack(sampleRate: 48000, period: 256)
        let report = scratch.file("allocations.txt")
        let jalv = try Interactive("/usr/bin/jalv", ["-n", "nfx-loader", URI.model], environment: [
            "LV2_PATH": Built.lv2Path + ":" + presets.directory, "JACK_DEFAULT_SERVER": jack.name,
            "LD_PRELOAD": Built.allocationCounter, "NEURALFX_LV2_ALLOCATION_REPORT": report,
        ])
        usleep(800_000)
        for name in ["lstm", "la2a", "missing", "truncated", "wrongkind", "fifo", "directory", "wavenet"] {
            jalv.send("preset " + PresetBundle.uri(name))
            usleep(300_000)
        }
        let status = jalv.finish(within: 10)
        XCTAssertEqual(status, 0, "jalv: \(jalv.standardError)")

        let counted = try AllocationReport(path: report)
        XCTAssertEqual(counted.calibration, 2, "the counter sees a malloc and a free made through it")
        XCTAssertGreaterThan(counted.calls, 100, "run() was called while the server ran")
        XCTAssertEqual(counted.allocations, 0, "heap operations inside run() and work_response()")
        XCTAssertEqual(counted.switches, 8, "each preset crossfaded to its model (or to the pass-through)")

        // One line each, naming the file and why; the good files say nothing.
        let lines = jalv.standardError.split(separator: "\n").filter { $0.contains("NeuralFX Model:") }
        XCTAssertEqual(lines.count, 5, jalv.standardError)
        let expected = [("gone.nam", "no such file"), ("truncated.nam", "JSON"), ("not-a-model.safetensors", "not a safetensors file"),
                        ("fifo.nam", "not a regular file"), (scratch.path, "not a regular file")]
        for (line, (file, reason)) in zip(lines, expected) {
            XCTAssertTrue(line.contains(file) && line.contains(reason) && line.contains("passing audio through"), String(line))
        }
    }

    /// A .nam capture chosen in jalv plays exactly as fxrender renders it:
    /// audio from another JACK client through jalv and back, in freewheel.
    func testNAMCaptureLoadedInJalvSoundsAsFXRenderRendersIt() throws {
        let capture = fixturesDirectory + "/nam/lstm.nam"
        let presets = try PresetBundle(in: scratch, files: [("lstm", capture)])
        let jack = try DummyJack(sampleRate: 48000, period: 256)
        let jalv = try Interactive("/usr/bin/jalv", ["-n", "nfx-loader", URI.model], environment: [
            "LV2_PATH": Built.lv2Path + ":" + presets.directory, "JACK_DEFAULT_SERVER": jack.name,
        ])
        let signal = testSignal(channel: 0, sampleRate: 48000, frames: 24000)
        // Under load (the whole suite, other work on the machine) a client's
        // first handshake with a server just started can time out: retried.
        var opened: JackPlayer?
        var failures: [String] = []
        for _ in 0..<20 where opened == nil {
            do { opened = try JackPlayer(server: jack.name, signal: signal, extra: 2048) } catch {
                failures.append("\(error)")
                usleep(250_000)
            }
        }
        let player = try XCTUnwrap(opened, failures.joined(separator: "; "))
        var connected = false
        for _ in 0..<100 where !connected {
            connected = (try? player.client.connect("player:play", "nfx-loader:in")) != nil
                && (try? player.client.connect("nfx-loader:out", "player:rec")) != nil
            if !connected { usleep(50_000) }
        }
        XCTAssertTrue(connected, "jalv's ports did not appear: \(jalv.standardError)")
        jalv.send("preset " + PresetBundle.uri("lstm"))
        usleep(500_000)
        let recording = try player.playAndRecord(timeout: 30)
        XCTAssertEqual(recording.count, signal.count + 2048)
        XCTAssertEqual(jalv.finish(within: 10), 0, jalv.standardError)

        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 48000)
        let rendered = try runTool(Built.fxrender, [scratch.file("in.wav"), scratch.file("ref.wav"), "--model", capture,
                                                    "--subtype", "float"])
        XCTAssertEqual(rendered.status, 0, rendered.stderr)
        let reference = try readAudio(scratch.file("ref.wav"))[0]
        // The loop player -> jalv -> player returns the audio 0 or 1 periods later.
        let lags = [0, 256].map { lag in (lag, maxDifference(Array(recording[lag..<(lag + reference.count)]), reference)) }
        let best = lags.min { $0.1 < $1.1 }!
        XCTAssertLessThan(best.1, 1e-6, "lags and differences: \(lags)")
        XCTAssertGreaterThan(reference.map(abs).max()!, 0.05)
    }
}
