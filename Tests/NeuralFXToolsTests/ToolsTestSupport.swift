import Foundation
import NeuralFXAudio
import NeuralFXCore
import NeuralFXTools

/// A fresh directory under the system temp dir, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "nfx-tools-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func make(_ relative: String, contents: String = "") -> String {
        let full = file(relative)
        try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full, contents: Data(contents.utf8))
        return full
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Names in the directory (hidden ones included: temporary files must not linger).
    var contents: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// A small random micro-TCN with a continuous knob and a switch.
func testModel(sampleRate: Double = 44100) -> EffectModel {
    EffectModel(name: "test-utcn", blueprint: MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: 1),
                sampleRate: sampleRate,
                knobs: KnobSchema([
                    .continuous("peak", label: "Peak reduction", range: 0...1, default: 0.5, conditioningIndex: 0),
                    .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0, conditioningIndex: 1),
                ]))
}

/// Deterministic test music per channel, below full scale.
func testSignal(channel: Int, sampleRate: Double, frames: Int) -> [Float] {
    var seed = UInt64(0x51ED + channel)
    return (0..<frames).map { i in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let noise = Double(Int64(bitPattern: seed >> 11) % 1000) / 1000 * 0.05
        let t = Double(i) / sampleRate
        let envelope = 0.5 + 0.5 * sin(2 * .pi * 1.5 * t)
        return Float(envelope * (0.5 * sin(2 * .pi * (220 + 50 * Double(channel)) * t) + 0.2 * sin(2 * .pi * 2750 * t)) + noise)
    }
}

func writeAudio(_ path: String, _ channels: [[Float]], sampleRate: Int, sampleFormat: AudioSampleFormat = .float) throws {
    let writer = try AudioFileWriter(path: path, sampleRate: sampleRate, channels: channels.count, sampleFormat: sampleFormat)
    try writer.write(channels.map { UnsafePointer($0.withUnsafeBufferPointer { $0.baseAddress! }) }, frames: channels[0].count)
    try writer.finish()
}

func readAudio(_ path: String) throws -> [[Float]] { try AudioFileReader(path: path).readAll() }

/// The reference: one engine over a whole channel in a single call.
func engineRender(_ signal: [Float], model: EffectModel, settings: (inout EffectSettings) throws -> Void = { _ in })
    rethrows -> [Float] {
    var s = EffectSettings(knobs: model.knobs)
    try settings(&s)
    let engine = EffectEngine(model: model, maxBlockSize: max(signal.count, 1))
    s.configure(engine)
    var output = [Float](repeating: 0, count: signal.count)
    signal.withUnsafeBufferPointer { i in
        output.withUnsafeMutableBufferPointer { o in engine.process(i.baseAddress!, o.baseAddress!, frameCount: signal.count) }
    }
    return output
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
