import Foundation
import NeuralFXAudio
import NeuralFXModelFiles
import NeuralFXTools
import NeuralFXDevices
import XCTest

/// Every preset shipped in presets/ names a bundled model and fits its knobs,
/// and fxrender renders with it from the source tree's search path.
final class BundledPresetTests: XCTestCase {
    func testBundledPresetsFitTheirModels() throws {
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let catalog = ModelCatalog(roots: [(root, false)])
        let names = catalog.available(.preset)
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let path = try catalog.resolve(name, kind: .preset)
            let preset = try Preset.load(path: path)
            let model = try ModelFile.load(path: try catalog.resolve(preset.model ?? ModelCatalog.defaultModelName, kind: .model))
            var settings = EffectSettings(knobs: model.knobs)
            XCTAssertNoThrow(try settings.apply(preset, source: path), name)
            XCTAssertFalse(preset.description.isEmpty, name)
        }
    }

    func testEveryBundledPresetRendersByName() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let names = ModelCatalog(roots: [(root, false)]).available(.preset)
        XCTAssertGreaterThanOrEqual(names.count, 6)
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 22050)], sampleRate: 44100)
        for name in names {
            let out = scratch.file("\(name).flac")
            let result = try runFXRender([scratch.file("in.wav"), out, "--preset", name], home: scratch.path)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let rendered = try AudioFileReader(path: out).readAll()[0]
            XCTAssertEqual(rendered.count, 22050, name)
            XCTAssertTrue(rendered.allSatisfy(\.isFinite), name)
            XCTAssertGreaterThan(rendered.map(abs).max() ?? 0, 1e-3, "\(name) rendered silence")
            // --info describes the model the preset names.
            let preset = try Preset.load(path: root + "/presets/\(name).json")
            let info = try runFXRender(["--preset", name, "--info"], home: scratch.path)
            XCTAssertEqual(info.status, 0, info.stderr)
            XCTAssertTrue(info.stdout.hasPrefix("model: \(preset.model ?? ModelCatalog.defaultModelName)\n"), "\(name): \(info.stdout)")
        }
    }

    /// The bundled compressor follows its Peak Reduction knob on the demo
    /// clip: turned from 0.1 to 0.9, its loudest passages come out at least
    /// 4 dB quieter, its quiet ones much less so.
    func testBundledCompressorFollowsPeakReduction() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let clip = root + "/examples/drums-and-bass.flac"
        let input = try AudioFileReader(path: clip).readAll()[0]
        var changes: [(quiet: Double, loud: Double)] = []
        for peak in ["0.1", "0.9"] {
            let out = scratch.file("out-\(peak).wav")
            let result = try runFXRender([clip, out, "--knob", "peak=\(peak)"], home: scratch.path)
            XCTAssertEqual(result.status, 0, result.stderr)
            changes.append(quietAndLoudChange(input: input, output: try AudioFileReader(path: out).readAll()[0]))
        }
        XCTAssertLessThan(changes[1].loud, changes[0].loud - 4, "loud passages: \(changes)")
        XCTAssertLessThan(changes[1].loud - changes[0].loud, changes[1].quiet - changes[0].quiet - 1,
                          "the loud passages must lose more than the quiet ones: \(changes)")
    }

    /// `make demo` renders the drum-and-bass clip at peak 0.4. Compressed
    /// means: its loudest tenth (50 ms windows) comes out at least 2.5 dB
    /// quieter, at least 1.5 dB more than its quieter half, and its
    /// peak-to-loudness ratio falls by at least 1.5 dB. (The reference device
    /// takes 4.0 dB off the loud windows and 0.2 dB off the quiet ones; the
    /// shipped model 3.2 and 1.3 dB, lowering the PLR from 21.4 to 19.3 dB.)
    func testDemoRenderIsAudiblyCompressed() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let clip = root + "/examples/drums-and-bass.flac"
        let input = try AudioFileReader(path: clip).readAll()[0]
        let out = scratch.file("demo.wav")
        let result = try runFXRender([clip, out, "--knob", "peak=0.4"], home: scratch.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let output = try AudioFileReader(path: out).readAll()[0]
        let (quietChange, loudChange) = quietAndLoudChange(input: input, output: output)
        XCTAssertLessThan(loudChange, -2.5, "loudest tenth changed by \(loudChange) dB")
        XCTAssertLessThan(loudChange, quietChange - 1.5, "loud \(loudChange) dB against quiet \(quietChange) dB")
        // The peak-to-loudness ratio follows the device's: its 10 ms attack
        // lets the hits' first milliseconds through while the body of the
        // mix comes down, so its PLR rises (by 1.7 dB here). The shipped
        // model's changes by -0.3 dB (2 December; the uTCN-100-C before it:
        // -2.1 dB), the 2.5 dB margin leaves room for retraining, not for a
        // model that squashes the peaks.
        let device = OpticalCompressor(sampleRate: 44100)
        device.setKnob(1, to: 0.4)
        var reference = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { device.process($0.baseAddress!, &reference, frameCount: input.count) }
        let modelChange = peakToLoudness(output) - peakToLoudness(input)
        let deviceChange = peakToLoudness(reference) - peakToLoudness(input)
        XCTAssertEqual(modelChange, deviceChange, accuracy: 2.5, "PLR change: model \(modelChange) dB, device \(deviceChange) dB")
    }

    /// Mean level change (dB) of the quieter half and of the loudest tenth
    /// of the input's 50 ms windows.
    func quietAndLoudChange(input: [Float], output: [Float]) -> (quiet: Double, loud: Double) {
        let sorted = levelChange(input: input, output: output, window: 2205).sorted { $0.level < $1.level }
        let quiet = sorted.prefix(sorted.count / 2), loud = sorted.suffix(sorted.count / 10)
        return (quiet.reduce(0) { $0 + $1.change } / Double(quiet.count), loud.reduce(0) { $0 + $1.change } / Double(loud.count))
    }

    /// Peak (dBFS) minus integrated loudness (LUFS).
    func peakToLoudness(_ x: [Float]) -> Double {
        let meter = LoudnessMeter(sampleRate: 44100, channels: 1)
        x.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: x.count) }
        return 20 * log10(Double(x.map(abs).max() ?? 0)) - meter.integratedLoudness
    }

    /// Per window: input level (dB) and output level minus input level (dB).
    func levelChange(input: [Float], output: [Float], window: Int) -> [(level: Double, change: Double)] {
        stride(from: 0, to: min(input.count, output.count) - window, by: window).compactMap { start in
            var a = 0.0, b = 0.0
            for i in start..<(start + window) { a += Double(input[i] * input[i]); b += Double(output[i] * output[i]) }
            guard a / Double(window) > 1e-6 else { return nil }
            return (10 * log10(a / Double(window)), 10 * log10(max(b, 1e-20) / a))
        }
    }
}
