import Foundation
import NeuralFXCore
import NeuralFXLive
import NeuralFXModelFiles
import XCTest

/// What a person at the host notices: knob moves smoothed exactly as fxhost
/// smooths them, and how long the plugin takes to appear.
final class PluginBehaviourTests: XCTestCase {
    override func setUpWithError() throws { try Built.requireBundle() }

    /// A knob moved between two run() calls ramps exactly as a knob moved on
    /// fxhost's LiveProcessor at the same frame.
    func testKnobMovesAreSmoothedAsInFXHost() throws {
        let input = testSignal(channel: 0, sampleRate: 44100, frames: 22050)
        let host = try TestHost(uri: URI.compressor, sampleRate: 44100)
        host.set(host.ports.knob(1), 0.2)
        var plugin = host.process([Array(input[..<8000])], blockSize: 500)[0]
        host.set(host.ports.knob(1), 0.9)
        host.set(host.ports.inputGain, 4)
        plugin += host.process([Array(input[8000...])], blockSize: 500)[0]

        let model = try ModelFile.load(path: modelsDirectory + "/la2a.safetensors")
        let set = try EngineSet(model: model, channels: 1, streamRate: 44100, maxBlockSize: 1024, knobValues: ["peak": 0.2],
                            inputGainDecibels: 0, outputGainDecibels: 0, midiMap: MidiMap())
        let live = LiveProcessor(initial: set, sampleRate: 44100)
        var reference = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { x in
            reference.withUnsafeMutableBufferPointer { y in
                live.inputs[0] = x.baseAddress!
                live.outputs[0] = y.baseAddress!
                live.render(offset: 0, frameCount: 8000)
                live.setKnobOnAudioThread(1, to: 0.9)
                live.setInputGainOnAudioThread(decibels: 4)
                live.render(offset: 8000, frameCount: input.count - 8000)
            }
        }
        XCTAssertLessThan(maxDifference(plugin, reference), 1e-6)
        // The move is a ramp, not a step: the first frames after it still differ from a jump.
        let jumped = try TestHost(uri: URI.compressor, sampleRate: 44100)
        jumped.set(jumped.ports.knob(1), 0.9)
        jumped.set(jumped.ports.inputGain, 4)
        let settled = jumped.process([input], blockSize: 500)[0]
        XCTAssertGreaterThan(maxDifference(Array(plugin[8000..<8100]), Array(settled[8000..<8100])), 1e-3)
    }

    /// After deactivate() and activate() nothing of what played before
    /// sounds: the output is a fresh instance's, at the controls now set.
    func testActivateStartsAfresh() throws {
        let input = testSignal(channel: 0, sampleRate: 48000, frames: 9600)
        let host = try TestHost(uri: URI.compressor, sampleRate: 48000)
        host.set(host.ports.knob(1), 0.8)
        _ = host.process([input], blockSize: 256)
        host.set(host.ports.knob(1), 0.3)
        host.reactivate()
        let restarted = host.process([input], blockSize: 256)[0]
        let fresh = try TestHost(uri: URI.compressor, sampleRate: 48000)
        fresh.set(fresh.ports.knob(1), 0.3)
        // (To within the model's output for silence, which primes the resampling
        // queue: the restarted set takes it at the knobs in force, a fresh one at the defaults.)
        XCTAssertLessThan(maxDifference(restarted, fresh.process([input], blockSize: 256)[0]), 1e-6)
        XCTAssertGreaterThan(restarted.map(abs).max()!, 0.05)
        XCTAssertEqual(host.allocations, 0)
    }

    /// Hosts scan and instantiate plugins at start-up: the bundled plugins
    /// read and prepare their model in instantiate(), the loader only sets up
    /// its pass-through. Bounds are loose for a shared VM; the figures print.
    func testInstantiationIsQuick() throws {
        for uri in URI.all {
            var best = Double.infinity
            for _ in 0..<3 { best = min(best, try TestHost(uri: uri, sampleRate: 48000).instantiateSeconds) }
            print("instantiate \(uri): \(String(format: "%.1f", best * 1000)) ms")
            XCTAssertLessThan(best, uri.contains("/model") ? 0.05 : 0.5, uri)
        }
        let scratch = try Scratch()
        try writeAudio(scratch.file("one.wav"), [[0]], sampleRate: 48000)
        let start = Date()
        let whole = try runTool("lv2apply", ["-i", scratch.file("one.wav"), "-o", scratch.file("out.wav"), URI.compressor])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        print("lv2apply, one frame through the compressor (process start to exit): \(String(format: "%.0f", seconds * 1000)) ms")
        XCTAssertLessThan(seconds, 2)
    }
}
