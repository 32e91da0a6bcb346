import Foundation
import NeuralFXCore
import NeuralFXLive
import NeuralFXModelFiles
import XCTest

/// lv2apply (Debian's lilv-utils) renders files through the plugins one
/// frame per run() call; the results must equal fxrender's from the first
/// sample wherever no resampling is involved.
final class PluginRenderTests: XCTestCase {
    var scratch: Scratch!

    override func setUpWithError() throws {
        try Built.requireBundle()
        scratch = try Scratch()
    }

    /// lv2apply's output and fxrender's, for the same input and knobs.
    func renderBoth(uri: String, controls: [(String, String)], fxrenderArguments: [String], channels: Int,
                    sampleRate: Int, seconds: Double = 0.5) throws -> (plugin: [[Float]], reference: [[Float]]) {
        let frames = Int(Double(sampleRate) * seconds)
        let input = scratch.file("in.wav")
        try writeAudio(input, (0..<channels).map { testSignal(channel: $0, sampleRate: Double(sampleRate), frames: frames) },
                       sampleRate: sampleRate)
        let applied = try runTool("lv2apply", ["-i", input, "-o", scratch.file("plugin.wav")]
                              + controls.flatMap { ["-c", $0.0, $0.1] } + [uri])
        XCTAssertEqual(applied.status, 0, applied.stderr)
        let rendered = try runTool(Built.fxrender, [input, scratch.file("ref.wav"), "--subtype", "float", "--force"] + fxrenderArguments)
        XCTAssertEqual(rendered.status, 0, rendered.stderr)
        return (try readAudio(scratch.file("plugin.wav")), try readAudio(scratch.file("ref.wav")))
    }

    func testCompressorEqualsFXRenderAt44100() throws {
        let (plugin, reference) = try renderBoth(uri: URI.compressor, controls: [("peak", "0.4")],
                                                 fxrenderArguments: ["--knob", "peak=0.4"], channels: 1, sampleRate: 44100)
        XCTAssertLessThan(maxDifference(plugin[0], reference[0]), 1e-6)
        XCTAssertGreaterThan(reference[0].map(abs).max()!, 0.05)
    }

    func testStereoCompressorInLimitModeEqualsFXRenderPerChannel() throws {
        let (plugin, reference) = try renderBoth(uri: URI.compressorStereo, controls: [("mode", "1"), ("peak", "0.35")],
                                                 fxrenderArguments: ["--knob", "mode=limit", "--knob", "peak=0.35"],
                                                 channels: 2, sampleRate: 44100, seconds: 0.3)
        XCTAssertEqual(plugin.count, 2)
        for c in 0..<2 { XCTAssertLessThan(maxDifference(plugin[c], reference[c]), 1e-6, "channel \(c)") }
        XCTAssertGreaterThan(maxDifference(plugin[0], plugin[1]), 0.01, "the channels run their own engines")
    }

    func testOverdriveEqualsFXRenderAt44100() throws {
        let (plugin, reference) = try renderBoth(uri: URI.overdrive, controls: [("drive", "0.8"), ("tone", "0.3"), ("level", "0.7")],
                                                 fxrenderArguments: ["--model", modelsDirectory + "/overdrive.safetensors",
                                                                     "--knob", "drive=0.8", "--knob", "tone=0.3", "--knob", "level=0.7"],
                                                 channels: 1, sampleRate: 44100)
        XCTAssertLessThan(maxDifference(plugin[0], reference[0]), 1e-6)
        XCTAssertGreaterThan(reference[0].map(abs).max()!, 0.05)
    }

    /// Gains in dB equal a preset's gains through fxrender; bypassed from the
    /// start, the output is the input once the bypass ramp is done.
    func testGainsAndBypass() throws {
        let preset = scratch.file("gains.json")
        try Data(#"{"model": "\#(modelsDirectory)/la2a.safetensors", "description": "gains", "knobs": {"peak": 0.6}, "input_gain_db": -6, "output_gain_db": 3}"#.utf8)
            .write(to: URL(fileURLWithPath: preset))
        let (plugin, reference) = try renderBoth(uri: URI.compressor, controls: [("peak", "0.6"), ("input_gain", "-6"), ("output_gain", "3")],
                                                 fxrenderArguments: ["--preset", preset],
                                                 channels: 1, sampleRate: 44100, seconds: 0.3)
        XCTAssertLessThan(maxDifference(plugin[0], reference[0]), 1e-6)

        let input = try readAudio(scratch.file("in.wav"))[0]
        let bypassed = try runTool("lv2apply", ["-i", scratch.file("in.wav"), "-o", scratch.file("bypassed.wav"), "-c", "enabled", "0",
                                            URI.compressor])
        XCTAssertEqual(bypassed.status, 0, bypassed.stderr)
        let output = try readAudio(scratch.file("bypassed.wav"))[0]
        // The bypass ramps in over the crossfade time from the first frame.
        let fade = Int(LiveProcessor.crossfadeSeconds * 44100)
        XCTAssertLessThan(maxDifference(Array(output[fade...]), Array(input[fade...])), 1e-6)
    }

    /// At 48 kHz the plugin resamples to the model's 44.1 kHz inside, as
    /// fxhost does: it equals fxhost's rate conversion from the first sample,
    /// and fxrender's (offline and latency-free) to 1e-6 from fxrender's
    /// first sample, once shifted by the latency the plugin reports.
    func testBundledModelsAt48000EqualFXRenderShiftedByTheLatency() throws {
        let cases: [(uri: String, file: String, knobs: [(String, Double)])] = [
            (URI.compressor, "la2a.safetensors", [("peak", 0.4)]),
            (URI.overdrive, "overdrive.safetensors", [("drive", 0.8), ("tone", 0.3), ("level", 0.7)]),
            (URI.cl1b, "cl1b.safetensors", [("threshold", 0.6), ("ratio", 0.25)]),
        ]
        for c in cases {
            let path = modelsDirectory + "/" + c.file
            let (plugin, reference) = try renderBoth(uri: c.uri, controls: c.knobs.map { ($0.0, String($0.1)) },
                                                     fxrenderArguments: ["--model", path] + c.knobs.flatMap { ["--knob", "\($0.0)=\($0.1)"] },
                                                     channels: 1, sampleRate: 48000)
            let input = try readAudio(scratch.file("in.wav"))[0]
            let model = try ModelFile.load(path: path)
            let engine = EffectEngine(model: model, maxBlockSize: 1024 * 44100 / 48000 + 2)
            let conversion = try RateConversion(engine: engine, streamRate: 48000, modelRate: 44100, maxBlockSize: 1024)
            for (name, value) in c.knobs { engine.setKnob(model.knobs.index(of: name)!, to: value) }
            var live = [Float](repeating: 0, count: input.count)
            input.withUnsafeBufferPointer { x in
                live.withUnsafeMutableBufferPointer { y in
                    var done = 0
                    while done < x.count {
                        let n = min(1024, x.count - done)
                        conversion.process(x.baseAddress! + done, y.baseAddress! + done, frameCount: n)
                        done += n
                    }
                }
            }
            XCTAssertLessThan(maxDifference(plugin[0], live), 1e-6, c.uri)
            // The plugin plays what fxrender renders, as late as it reports:
            // both go through the same converter, which gives the same
            // samples however the stream is cut into blocks.
            let latency = conversion.latencyFrames
            XCTAssertGreaterThan(latency, 0, c.uri)
            XCTAssertEqual(plugin[0][..<latency].map(abs).max()!, 0, c.uri)
            let shifted = Array(plugin[0][latency...])
            let difference = maxDifference(shifted, Array(reference[0].prefix(shifted.count)))
            print("lv2apply at 48 kHz, \(c.file): \(latency) frames late, then within \(difference) of fxrender")
            XCTAssertLessThan(difference, 1e-6, c.uri)
            XCTAssertGreaterThan(shifted.map(abs).max()!, 0.05, c.uri)
        }
    }
}
