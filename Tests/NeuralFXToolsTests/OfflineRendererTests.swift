import Foundation
import NeuralFXAudio
import NeuralFXResampling
import NeuralFXCore
import NeuralFXTools
import XCTest

final class OfflineRendererTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func render(_ input: String, _ output: String, model: EffectModel = testModel(), knobs: [String] = [],
                sampleFormat: AudioSampleFormat? = nil, force: Bool = false, blockFrames: Int = 4096) throws -> RenderSummary {
        var settings = EffectSettings(knobs: model.knobs)
        try settings.apply(arguments: knobs)
        let files = try RenderFiles(input: input, output: output, sampleFormat: sampleFormat, force: force)
        return try OfflineRenderer(model: model, settings: settings, blockFrames: blockFrames).render(files)
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    /// At the model's rate the file comes out as one engine run over the whole signal.
    func testMonoMatchesEngine() throws {
        let signal = testSignal(channel: 0, sampleRate: 44100, frames: 30_000)
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 44100)
        var progress: [Double] = []
        var settings = EffectSettings(knobs: testModel().knobs)
        try settings.apply(arguments: ["peak=0.8", "mode=limit"])
        let files = try RenderFiles(input: scratch.file("in.wav"), output: scratch.file("out.wav"))
        let summary = try OfflineRenderer(model: testModel(), settings: settings, blockFrames: 1000)
            .render(files) { progress.append($0.fraction) }
        let expected = try engineRender(signal, model: testModel()) { try $0.apply(arguments: ["peak=0.8", "mode=limit"]) }
        let out = try readAudio(scratch.file("out.wav"))
        XCTAssertEqual(out.count, 1)
        XCTAssertLessThan(maxDifference(out[0], expected), 1e-6)
        XCTAssertEqual(progress.count, 30)
        XCTAssertEqual(progress.last, 1)
        XCTAssertFalse(summary.resampled)
        XCTAssertEqual(summary.frames, 30_000)
        XCTAssertEqual(summary.framesWritten, 30_000)
        XCTAssertEqual(scratch.contents, ["in.wav", "out.wav"])
    }

    /// Every channel has its own engine: each output channel is the mono render of that channel.
    func testStereoChannelsAreIndependent() throws {
        let left = testSignal(channel: 0, sampleRate: 44100, frames: 20_000)
        let right = testSignal(channel: 1, sampleRate: 44100, frames: 20_000)
        try writeAudio(scratch.file("in.flac"), [left, right], sampleRate: 44100, sampleFormat: .pcm24)
        let summary = try render(scratch.file("in.flac"), scratch.file("out.aiff"), knobs: ["peak=0.3"])
        let decoded = try readAudio(scratch.file("in.flac"))
        let out = try AudioFileReader(path: scratch.file("out.aiff"))
        XCTAssertEqual(out.sampleFormat, .pcm24)  // kept from the input
        XCTAssertEqual(out.container, .aiff)
        XCTAssertEqual(summary.outputSampleFormat, .pcm24)
        let channels = try out.readAll()
        for c in 0..<2 {
            let expected = try engineRender(decoded[c], model: testModel()) { try $0.apply(arguments: ["peak=0.3"]) }
            XCTAssertLessThan(maxDifference(channels[c], expected), 2.0 / 8_388_608, "channel \(c)")
        }
    }

    /// A 48 kHz file through a 44.1 kHz model: resampled there and back, same
    /// length, and equal to converting, rendering and converting the whole signal at once.
    func testResamplingPath() throws {
        let signal = testSignal(channel: 0, sampleRate: 48000, frames: 24_000)
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 48000)
        let summary = try render(scratch.file("in.wav"), scratch.file("out.wav"), blockFrames: 777)
        XCTAssertTrue(summary.resampled)
        XCTAssertTrue(summary.line.contains("(resampled to 44100 Hz for the model and back)"), summary.line)
        let out = try AudioFileReader(path: scratch.file("out.wav"))
        XCTAssertEqual(out.sampleRate, 48000)
        let rendered = try out.readAll()[0]
        XCTAssertEqual(rendered.count, signal.count)

        func convert(_ x: [Float], _ a: Double, _ b: Double, total: Int64? = nil) throws -> [Float] {
            let r = try StreamingResampler(from: a, to: b, channels: 1)
            var y: [Float] = []
            try x.withUnsafeBufferPointer { p in
                try r.process(p.baseAddress!, frames: x.count) { y += UnsafeBufferPointer(start: $0, count: $1) }
            }
            try r.finish(totalOutputFrames: total) { y += UnsafeBufferPointer(start: $0, count: $1) }
            return y
        }
        let expected = try convert(try engineRender(try convert(signal, 48000, 44100), model: testModel()), 44100, 48000,
                                   total: Int64(signal.count))
        XCTAssertLessThan(maxDifference(rendered, expected), 1e-5)
    }

    func testSummaryMeasuresInputAndOutput() throws {
        let signal = testSignal(channel: 0, sampleRate: 44100, frames: 44100)
        try writeAudio(scratch.file("in.wav"), [signal, signal], sampleRate: 44100)
        let summary = try render(scratch.file("in.wav"), scratch.file("out.flac"))
        let meter = LoudnessMeter(sampleRate: 44100, channels: 2)
        let interleaved = signal.flatMap { [$0, $0] }
        interleaved.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: signal.count) }
        XCTAssertEqual(summary.inputLoudness, meter.integratedLoudness, accuracy: 1e-9)
        XCTAssertEqual(summary.inputPeakDB, meter.samplePeakDecibels, accuracy: 1e-9)
        XCTAssertTrue(summary.outputLoudness.isFinite)
        XCTAssertEqual(summary.durationSeconds, 1)
        XCTAssertGreaterThan(summary.speed, 0)
        XCTAssertEqual(summary.outputSampleFormat, .pcm24)  // FLAC has no float: its default
        XCTAssertTrue(summary.line.hasPrefix("\(scratch.file("out.flac")): 1.00 s stereo at 44100 Hz, FLAC pcm24, model test-utcn (peak=0.5 mode=compress), "),
                      summary.line)
    }

    /// NaN and Inf in a float file are rendered as silence and counted.
    func testNonFiniteInputIsCountedAndSilenced() throws {
        var signal = testSignal(channel: 0, sampleRate: 44100, frames: 10_000)
        signal[100] = .nan
        signal[5000] = .infinity
        signal[5001] = -.infinity
        try writeAudio(scratch.file("in.wav"), [signal], sampleRate: 44100)
        let summary = try render(scratch.file("in.wav"), scratch.file("out.wav"))
        XCTAssertEqual(summary.nonFiniteInputSamples, 3)
        XCTAssertTrue(summary.line.contains("3 NaN/Inf input samples rendered as silence"), summary.line)
        let out = try readAudio(scratch.file("out.wav"))[0]
        XCTAssertTrue(out.allSatisfy(\.isFinite))
        var cleaned = signal
        for i in [100, 5000, 5001] { cleaned[i] = 0 }
        XCTAssertLessThan(maxDifference(out, try engineRender(cleaned, model: testModel())), 1e-6)
    }

    func testRefusesToOverwrite() throws {
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 1000)], sampleRate: 44100)
        let existing = scratch.make("out.wav", contents: "keep me")
        XCTAssertEqual(message { try self.render(self.scratch.file("in.wav"), existing) },
                       "'\(existing)' already exists (use --force to replace it)")
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")
        _ = try render(scratch.file("in.wav"), existing, force: true)
        XCTAssertEqual(try AudioFileReader(path: existing).frames, 1000)
        XCTAssertEqual(scratch.contents, ["in.wav", "out.wav"])
    }

    func testRefusesToWriteOverInput() throws {
        let input = scratch.file("in.wav")
        try writeAudio(input, [testSignal(channel: 0, sampleRate: 44100, frames: 1000)], sampleRate: 44100)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        try FileManager.default.createSymbolicLink(atPath: scratch.file("link.wav"), withDestinationPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: scratch.file("hard.wav"))
        for output in [input, scratch.file("./in.wav"), scratch.file("link.wav"), scratch.file("hard.wav")] {
            XCTAssertEqual(message { try self.render(input, output, force: true) },
                           "output '\(output)' is the input file '\(input)'; choose another output")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), before)
        XCTAssertEqual(scratch.contents, ["hard.wav", "in.wav", "link.wav"])
    }

    func testInputAndOutputErrors() throws {
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 1000)], sampleRate: 44100)
        let emptyWriter = try AudioFileWriter(path: scratch.file("empty.wav"), sampleRate: 44100, channels: 1,
                                              sampleFormat: .pcm16)
        try emptyWriter.finish()
        XCTAssertEqual(message { try self.render(self.scratch.file("empty.wav"), self.scratch.file("o.wav")) },
                       "'\(scratch.file("empty.wav"))' contains no audio (0 frames)")
        XCTAssertEqual(message { try self.render(self.scratch.file("none.wav"), self.scratch.file("o.wav")) },
                       "'\(scratch.file("none.wav"))': no such file")
        XCTAssertEqual(message { try self.render(self.scratch.file("in.wav"), self.scratch.file("nodir/o.wav")) },
                       "cannot write '\(scratch.file("nodir/o.wav"))': its directory does not exist")
        XCTAssertEqual(message { try self.render(self.scratch.file("in.wav"), self.scratch.path) },
                       "output '\(scratch.path)' is a directory")
        XCTAssertTrue(message { try self.render(self.scratch.file("in.wav"), self.scratch.file("o.txt")) }
            .hasPrefix("cannot tell the output format from '\(scratch.file("o.txt"))'"))
        XCTAssertEqual(message { try self.render(self.scratch.file("in.wav"), self.scratch.file("o.flac"), sampleFormat: .float) },
                       "FLAC cannot store float samples; it can store pcm8, pcm16, pcm24")
        XCTAssertEqual(scratch.contents, ["empty.wav", "in.wav"])
        // /proc takes no new files, even from root: the error names the output, not the temporary file.
        XCTAssertTrue(message { try self.render(self.scratch.file("in.wav"), "/proc/nfx-render-test.wav") }
            .hasPrefix("cannot create '/proc/nfx-render-test.wav': "))
    }

    /// Five minutes of stereo audio render with resident memory growth far
    /// below the audio's size (a one-block, one-channel network keeps it quick).
    func testMemoryStaysFlat() throws {
        let seconds = 300
        let path = scratch.file("long.wav")
        let writer = try AudioFileWriter(path: path, sampleRate: 44100, channels: 2, sampleFormat: .pcm16)
        let second = testSignal(channel: 0, sampleRate: 44100, frames: 44100).flatMap { [$0, -$0] }
        for _ in 0..<seconds { try second.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: 44100) } }
        try writer.finish()
        let tiny = MicroTCNConfig(nparams: 2, nblocks: 1, kernelSize: 3, dilationGrowth: 1, channelWidth: 1)
        var model = testModel()
        model.blueprint = MicroTCNWeights.random(tiny, seed: 3)
        let before = residentBytes()
        let summary = try render(path, scratch.file("long-out.wav"), model: model, sampleFormat: .pcm16)
        let growth = residentBytes() - before
        XCTAssertEqual(summary.framesWritten, Int64(seconds * 44100))
        // The audio as floats would take 106 MB.
        XCTAssertLessThan(growth, 8 << 20, "resident memory grew by \(growth) bytes")
    }
}

func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kB = Int(line.split(separator: " ")[1]) else { return 0 }
    return kB * 1024
}
