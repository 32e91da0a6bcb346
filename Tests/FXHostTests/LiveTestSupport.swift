import Foundation
import NeuralFXCore
import NeuralFXHost
import NeuralFXModelFiles
import NeuralFXTools
import XCTest

/// A reproducible test signal: a swelling two-tone chord with a little noise,
/// so a compressor model has something to do at every level.
func testSignal(count: Int, sampleRate: Double, seed: UInt64 = 7) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { i in
        let t = Double(i) / sampleRate
        let swell = 0.5 + 0.5 * sin(2 * Double.pi * 0.7 * t)
        let tone = 0.35 * sin(2 * Double.pi * 220 * t) + 0.2 * sin(2 * Double.pi * 331 * t)
        return Float(swell * tone) + 0.03 * rng.nextFloat(in: -1...1)
    }
}

/// What the core engine makes of `input` offline, with knob settings applied
/// immediately at the start and `changes` (smoothed) at given samples.
func offlineRender(_ model: EffectModel, knobs: [String], input: [Float],
                   changes: [(at: Int, knob: Int, value: Double)] = []) throws -> [Float] {
    let engine = EffectEngine(model: model, maxBlockSize: 512)
    for text in knobs {
        let (i, v) = try model.knobs.setting(text)
        engine.setKnob(i, to: v, immediately: true)
    }
    var output = [Float](repeating: 0, count: input.count)
    var done = 0
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            for change in changes + [(at: input.count, knob: -1, value: 0)] {
                if change.at > done {
                    engine.process(x.baseAddress! + done, y.baseAddress! + done, frameCount: change.at - done)
                    done = change.at
                }
                if change.knob >= 0 { engine.setKnob(change.knob, to: change.value) }
            }
        }
    }
    return output
}

/// The delay (0...maxDelay) at which `recording` best matches `expected`,
/// and the largest difference there over all of `expected`.
func alignment(recording: [Float], expected: [Float], maxDelay: Int) -> (delay: Int, maxError: Float) {
    var best = (delay: -1, maxError: Float.infinity)
    for d in 0...maxDelay where d + expected.count <= recording.count {
        var e: Float = 0
        for i in 0..<expected.count {
            e = max(e, abs(recording[d + i] - expected[i]))
            if e >= best.maxError { break }
        }
        if e < best.maxError { best = (d, e) }
    }
    return best
}

/// The JSON object fxhost prints for `--stats` (its last line starting with `{`).
func statistics(in output: String) -> [String: Any]? {
    guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
    return object
}

/// Waits until `condition` holds, checking every 10 ms, for at most `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Two small random micro-tcn models with a compressor's knobs, written once
/// per test process as model files (so fxhost loads them like any model),
/// and presets that select them.
enum TestModels {
    static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-host-models-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit {
            try? FileManager.default.removeItem(
                atPath: FileManager.default.temporaryDirectory.appendingPathComponent("nfx-host-models-\(getpid())").path)
        }
        let knobs = KnobSchema([.continuous("peak", label: "Peak Reduction", range: 0...1, default: 0.5, conditioningIndex: 1),
                                .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0,
                                            conditioningIndex: 0)])
        for (name, seed) in [("test-a", UInt64(1)), ("test-b", UInt64(2))] {
            try! ModelFile.save(MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: seed),
                                to: "\(dir)/\(name).safetensors", name: name, sampleRate: 44100, knobs: knobs)
            let preset = Preset(model: "\(dir)/\(name).safetensors", knobs: [("peak", .number(0.3)), ("mode", .position("limit"))])
            try! preset.json().write(to: URL(fileURLWithPath: "\(dir)/\(name)-limit.json"))
        }
        // A knob-conditioned NAM WaveNet with the same knobs.
        let layer = { (input: Int, channels: Int, head: Int, dilations: [Int]) in
            NAMWaveNetLayerArrayConfig(inputSize: input, conditionSize: 3, headSize: head, channels: channels, kernelSize: 3,
                                       dilations: dilations, activation: .tanh, gated: false, headBias: head == 1)
        }
        let config = NAMWaveNetConfig(layerArrays: [layer(1, 4, 2, [1, 2, 4, 8]), layer(4, 2, 1, [16, 1])], head: nil)
        var rng = SplitMix64(seed: 3)
        var weights = (0..<config.weightCount).map { _ in rng.nextFloat(in: -0.5...0.5) }
        weights[weights.count - 1] = 0.5
        try! WaveNetModelFile.save(config: config, weights: weights, to: "\(dir)/test-wavenet.safetensors", name: "test-wavenet",
                                   sampleRate: 44100, knobs: knobs)
        return dir
    }()

    static var a: String { directory + "/test-a.safetensors" }
    static var b: String { directory + "/test-b.safetensors" }
    static var waveNet: String { directory + "/test-wavenet.safetensors" }
    static var presetA: String { directory + "/test-a-limit.json" }
    static var presetB: String { directory + "/test-b-limit.json" }

    static func model(_ path: String) throws -> EffectModel { try ModelSource.model(path) }
}
