import Foundation
import NeuralFXAudio
import NeuralFXResampling
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXTools
import XCTest

/// fxrender end to end with real model files on real audio files.
final class FXRenderModelTests: XCTestCase {
    var scratch: ScratchDirectory!
    let knobs = KnobSchema([
        .continuous("peak", label: "Peak reduction", range: 0...1, default: 0.5, conditioningIndex: 0),
        .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0, conditioningIndex: 1),
    ])
    let weights = MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 11)

    /// The test model, installed where `--model testcomp` finds it ($NEURALFX_PATH/models).
    var modelPath: String { scratch.file("neuralfx/models/testcomp.safetensors") }

    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.file("neuralfx/models"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.file("neuralfx/presets"), withIntermediateDirectories: true)
        try ModelFile.save(weights, to: modelPath, name: "testcomp", description: "random weights for tests",
                           sampleRate: 44100, knobs: knobs, provenance: ["trained_on": "nothing (random)"])
    }

    override func tearDown() { scratch.remove() }

    func run(_ arguments: [String]) throws -> RunResult { try runFXRender(arguments, home: scratch.path) }

    var model: EffectModel { get throws { try ModelFile.load(path: modelPath) } }

    /// One engine over a whole channel, knobs set at once: the reference.
    func engineRender(_ signal: [Float], _ arguments: [String], outputGainDB: Double = 0) throws -> [Float] {
        let model = try self.model
        var settings = EffectSettings(knobs: model.knobs)
        try settings.apply(arguments: arguments)
        settings.outputGainDB = outputGainDB
        let engine = EffectEngine(model: model, maxBlockSize: signal.count)
        settings.configure(engine)
        var out = [Float](repeating: 0, count: signal.count)
        signal.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { engine.process(i.baseAddress!, $0.baseAddress!, frameCount: signal.count) }
        }
        return out
    }

    func resample(_ x: [Float], _ a: Double, _ b: Double, total: Int? = nil) throws -> [Float] {
        let r = try StreamingResampler(from: a, to: b, channels: 1)
        var y: [Float] = []
        try x.withUnsafeBufferPointer { p in
            try r.process(p.baseAddress!, frames: x.count) { y += UnsafeBufferPointer(start: $0, count: $1) }
        }
        try r.finish(totalOutputFrames: total.map(Int64.init)) { y += UnsafeBufferPointer(start: $0, count: $1) }
        return y
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    func assertSucceeded(_ result: RunResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr, "", "no progress bar when stderr is not a terminal", file: file, line: line)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout, file: file, line: line)
    }

    /// WAV, FLAC, AIFF in; 44.1 kHz (the model's rate) and 48 kHz (resampled);
    /// mono and stereo; output equals the engine run in this process.
    func testFormatsRatesAndChannels() throws {
        let cases: [(input: String, format: AudioSampleFormat, rate: Int, channels: Int, output: String, step: Float)] = [
            ("a.wav", .float, 44100, 1, "a-out.wav", 0),
            ("b.flac", .pcm16, 44100, 2, "b-out.flac", 1.0 / 32768),
            ("c.aiff", .pcm24, 48000, 2, "c-out.aiff", 1.0 / 8_388_608),
            ("d.wav", .float, 48000, 1, "d-out.wav", 0),
        ]
        for c in cases {
            let frames = c.rate / 2
            let signal = (0..<c.channels).map { testSignal(channel: $0, sampleRate: Double(c.rate), frames: frames) }
            try writeAudio(scratch.file(c.input), signal, sampleRate: c.rate, sampleFormat: c.format)
            let result = try run([scratch.file(c.input), scratch.file(c.output), "--model", "testcomp", "--knob", "peak=0.8"])
            assertSucceeded(result)
            let summary = result.stdout
            XCTAssertTrue(summary.hasPrefix("\(scratch.file(c.output)): 0.50 s \(c.channels == 1 ? "mono" : "stereo") at \(c.rate) Hz"),
                          summary)
            XCTAssertTrue(summary.contains(", model testcomp (peak=0.8 mode=compress), "), summary)
            XCTAssertTrue(summary.contains("x real time; in: peak "), summary)
            XCTAssertTrue(summary.contains(" LUFS, PLR ") && summary.contains(" dB; out: peak "), summary)
            XCTAssertEqual(summary.contains("resampled to 44100 Hz for the model and back"), c.rate != 44100, summary)

            let out = try AudioFileReader(path: scratch.file(c.output))
            XCTAssertEqual(out.sampleRate, c.rate)
            XCTAssertEqual(out.channels, c.channels)
            XCTAssertEqual(out.sampleFormat, c.format, "the input's sample format is kept")
            let rendered = try out.readAll()
            let decoded = try AudioFileReader(path: scratch.file(c.input)).readAll()
            for ch in 0..<c.channels {
                let expected = c.rate == 44100
                    ? try engineRender(decoded[ch], ["peak=0.8"])
                    : try resample(try engineRender(try resample(decoded[ch], Double(c.rate), 44100), ["peak=0.8"]),
                                   44100, Double(c.rate), total: frames)
                XCTAssertLessThanOrEqual(maxDifference(rendered[ch], expected), max(c.step, 1e-5), "\(c.input) channel \(ch)")
            }
        }
        XCTAssertFalse(scratch.allFiles.contains { $0.hasPrefix(".") }, "\(scratch.allFiles)")
    }

    /// Lossy formats in and out: MP3 to Ogg Vorbis and back.
    func testLossyFormats() throws {
        let signal = testSignal(channel: 0, sampleRate: 44100, frames: 44100)
        try writeAudio(scratch.file("in.mp3"), [signal, signal], sampleRate: 44100, sampleFormat: .mp3)
        assertSucceeded(try run([scratch.file("in.mp3"), scratch.file("out.ogg"), "--model", "testcomp"]))
        let ogg = try AudioFileReader(path: scratch.file("out.ogg"))
        XCTAssertEqual(ogg.container, .ogg)
        XCTAssertEqual(ogg.sampleFormat, .vorbis)
        XCTAssertEqual(ogg.channels, 2)
        XCTAssertEqual(Double(try ogg.readAll()[0].count), 44100, accuracy: 2304)
        let result = try run([scratch.file("out.ogg"), scratch.file("again.mp3"), "--model", "testcomp"])
        assertSucceeded(result)
        XCTAssertTrue(result.stdout.contains("MP3 mp3"), result.stdout)
        let wav = try run([scratch.file("in.mp3"), scratch.file("decoded.wav"), "--model", "testcomp"])
        assertSucceeded(wav)
        XCTAssertEqual(try AudioFileReader(path: scratch.file("decoded.wav")).sampleFormat, .float)
    }

    /// Each channel of a stereo render is the mono render of that channel.
    func testStereoChannelMatchesMonoRender() throws {
        let left = testSignal(channel: 0, sampleRate: 48000, frames: 20_000)
        let right = testSignal(channel: 1, sampleRate: 48000, frames: 20_000)
        try writeAudio(scratch.file("stereo.wav"), [left, right], sampleRate: 48000)
        try writeAudio(scratch.file("right.wav"), [right], sampleRate: 48000)
        assertSucceeded(try run([scratch.file("stereo.wav"), scratch.file("stereo-out.wav"), "--model", modelPath,
                                 "--knob", "mode=limit"]))
        assertSucceeded(try run([scratch.file("right.wav"), scratch.file("right-out.wav"), "--model", modelPath,
                                 "--knob", "mode=limit"]))
        let stereo = try AudioFileReader(path: scratch.file("stereo-out.wav")).readAll()
        let mono = try AudioFileReader(path: scratch.file("right-out.wav")).readAll()
        XCTAssertEqual(stereo[1], mono[0])
        XCTAssertNotEqual(stereo[0], stereo[1])
    }

    /// A preset picks the model and sets knobs and gain; --knob overrides it.
    func testPresetAndKnobOverride() throws {
        try Data(#"{"model": "testcomp", "knobs": {"peak": 0.9, "mode": "limit"}, "output_gain_db": -6}"#.utf8)
            .write(to: URL(fileURLWithPath: scratch.file("neuralfx/presets/hot.json")))
        let signal = testSignal(channel: 0, sampleRate: 44100, frames: 10_000)
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 44100)
        assertSucceeded(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--preset", "hot", "--knob", "peak=0.2"]))
        let rendered = try AudioFileReader(path: scratch.file("out.wav")).readAll()[0]
        XCTAssertLessThan(maxDifference(rendered, try engineRender(signal, ["peak=0.2", "mode=limit"], outputGainDB: -6)), 1e-6)
    }

    /// Without --model the default model (la2a) is used, found on the search path.
    func testDefaultModel() throws {
        try FileManager.default.copyItem(atPath: modelPath, toPath: scratch.file("neuralfx/models/la2a.safetensors"))
        let signal = testSignal(channel: 0, sampleRate: 44100, frames: 10_000)
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 44100)
        assertSucceeded(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--knob", "peak=0.4"]))
        let rendered = try AudioFileReader(path: scratch.file("out.wav")).readAll()[0]
        XCTAssertLessThan(maxDifference(rendered, try engineRender(signal, ["peak=0.4"])), 1e-6)
    }

    func testForceReplacesExistingOutput() throws {
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 5000)], sampleRate: 44100)
        FileManager.default.createFile(atPath: scratch.file("out.wav"), contents: Data("old".utf8))
        assertSucceeded(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--model", "testcomp", "--force"]))
        XCTAssertEqual(try AudioFileReader(path: scratch.file("out.wav")).frames, 5000)
    }

    func testInfo() throws {
        let result = try run(["--model", "testcomp", "--info"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "model: testcomp")
        for expected in ["file: \(modelPath)", "sample rate: 44100 Hz", "  peak: Peak reduction, 0..1, default 0.5",
                         "  mode: Mode, one of compress|limit, default compress", "description: random weights for tests",
                         "trained_on: nothing (random)"] {
            XCTAssertTrue(lines.contains(expected), "'\(expected)' not in:\n\(result.stdout)")
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("architecture: micro-tcn (4 blocks, kernel 5") }, result.stdout)
    }

    func testKnobAndModelErrors() throws {
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 4410)], sampleRate: 44100)
        let valid = try Data(contentsOf: URL(fileURLWithPath: modelPath))
        try valid.prefix(valid.count / 2).write(to: URL(fileURLWithPath: scratch.file("truncated.safetensors")))
        try Data("this is not a model".utf8).write(to: URL(fileURLWithPath: scratch.file("garbage.safetensors")))
        try Data(#"{"knobs": {"peak": 3}}"#.utf8).write(to: URL(fileURLWithPath: scratch.file("bad.json")))
        let before = scratch.allFiles
        let input = scratch.file("in.wav"), output = scratch.file("out.wav")
        assertFails(try run([input, output, "--model", "testcomp", "--knob", "ratio=4"]),
                    mentioning: ["unknown knob 'ratio'", "peak, mode"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", "testcomp", "--knob", "peak=1.5"]),
                    mentioning: ["peak", "1.5", "0..1"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", "testcomp", "--knob", "mode=squash"]),
                    mentioning: ["squash", "compress, limit"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", "testcomp", "--knob", "peak"]),
                    mentioning: ["name=value"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", scratch.file("truncated.safetensors")]),
                    mentioning: ["truncated.safetensors"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", scratch.file("garbage.safetensors")]),
                    mentioning: ["garbage.safetensors"], filesBefore: before, scratch: scratch)
        assertFails(try run([input, output, "--model", "testcomp", "--preset", scratch.file("bad.json")]),
                    mentioning: ["bad.json", "peak", "outside its range"], filesBefore: before, scratch: scratch)
        assertFails(try run(["--model", scratch.file("truncated.safetensors"), "--info"]),
                    mentioning: ["truncated.safetensors"], filesBefore: before, scratch: scratch)
    }

    /// NaN samples in a float file: rendered as silence, counted in the summary.
    func testNonFiniteInputIsReported() throws {
        var signal = testSignal(channel: 0, sampleRate: 44100, frames: 10_000)
        signal[1234] = .nan
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 44100)
        let result = try run([scratch.file("in.wav"), scratch.file("out.wav"), "--model", "testcomp"])
        assertSucceeded(result)
        XCTAssertTrue(result.stdout.contains("1 NaN/Inf input samples rendered as silence"), result.stdout)
        XCTAssertTrue(try AudioFileReader(path: scratch.file("out.wav")).readAll()[0].allSatisfy(\.isFinite))
    }

    /// On a terminal a progress bar is drawn on stderr (run under `script`, which gives it a pty).
    func testProgressBarOnTerminal() throws {
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 44100)], sampleRate: 44100)
        let command = [try fxrenderPath(), scratch.file("in.wav"), scratch.file("out.wav"), "--model", modelPath]
            .map { "'" + $0 + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("] 100%"), text)
        XCTAssertTrue(text.contains("\r\u{1B}[K"), "the bar is cleared before the summary")
        XCTAssertTrue(text.contains("LUFS"), text)
    }

    /// Ctrl-C mid-render leaves neither the output nor the temporary file.
    func testInterruptLeavesNothing() throws {
        let frames = 48000 * 120
        let writer = try AudioFileWriter(path: scratch.file("long.wav"), sampleRate: 48000, channels: 2, sampleFormat: .pcm16)
        let second = testSignal(channel: 0, sampleRate: 48000, frames: 48000).flatMap { [$0, $0] }
        for _ in 0..<(frames / 48000) { try second.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: 48000) } }
        try writer.finish()
        let before = scratch.allFiles
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try fxrenderPath())
        process.arguments = [scratch.file("long.wav"), scratch.file("out.wav"), "--model", modelPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait (at most 20 s) for the hidden temporary file to appear, then interrupt.
        var sawTemporary = false
        for _ in 0..<400 where !sawTemporary {
            usleep(50_000)
            sawTemporary = scratch.allFiles.contains { $0.hasPrefix(".out.wav.fxrender-") }
        }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertTrue(sawTemporary)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertEqual(scratch.allFiles, before)
    }
}

/// NAM captures through fxrender, with NAM's output-level choice.
extension FXRenderModelTests {
    func testNAMNormalizedOutputLevelScalesByTheStatedLoudness() throws {
        // A capture from the NAM parity fixtures; it states a loudness of -17.5 dB.
        let capture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralFXModelFilesTests/Fixtures/nam/lstm.nam").path
        let signal = testSignal(channel: 0, sampleRate: 48000, frames: 9600)
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 48000)
        assertSucceeded(try run([scratch.file("in.wav"), scratch.file("raw.wav"), "--model", capture, "--subtype", "float"]))
        assertSucceeded(try run([scratch.file("in.wav"), scratch.file("norm.wav"), "--model", capture,
                                 "--subtype", "float", "--output-level", "normalized"]))
        let raw = try AudioFileReader(path: scratch.file("raw.wav")).readAll()[0]
        let normalized = try AudioFileReader(path: scratch.file("norm.wav")).readAll()[0]
        XCTAssertGreaterThan(raw.map(abs).max()!, 0.01)
        let gain = Float(pow(10.0, (-18.0 - -17.5) / 20))
        XCTAssertLessThan(maxDifference(normalized, raw.map { $0 * gain }), 1e-6)
        let refused = try run([scratch.file("in.wav"), scratch.file("x.wav"), "--model", capture, "--output-level", "loud"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--output-level"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("x.wav")))
    }
}
