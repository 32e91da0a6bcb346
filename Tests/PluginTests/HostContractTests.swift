import Foundation
import NeuralFXCore
import NeuralFXLive
import NeuralFXModelFiles
import XCTest

/// The plugin against the LV2 contract, in a host the test controls: the
/// file parameter through the worker, any block size, odd host rates,
/// missing features, state with path mapping, bad files.
final class HostContractTests: XCTestCase {
    var scratch: Scratch!
    let lstm = fixturesDirectory + "/nam/lstm.nam"

    override func setUpWithError() throws {
        try Built.requireBundle()
        scratch = try Scratch()
    }

    func signal(_ rate: Double, seconds: Double, channel: Int = 0) -> [Float] {
        testSignal(channel: channel, sampleRate: rate, frames: Int(rate * seconds))
    }

    /// fxrender's output for `input` (mono, at `rate`) through `arguments`.
    func fxrender(_ input: [Float], rate: Int, _ arguments: [String]) throws -> [Float] {
        try writeAudio(scratch.file("fx-in.wav"), [input], sampleRate: rate)
        let result = try runTool(Built.fxrender, [scratch.file("fx-in.wav"), scratch.file("fx-out.wav"), "--subtype", "float",
                                                  "--force"] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try readAudio(scratch.file("fx-out.wav"))[0]
    }

    /// Loads through patch:Set, then plays silence until the crossfade is over.
    func load(_ path: String, into host: TestHost, rate: Double) {
        host.sendModelFile(path)
        _ = host.process([[Float](repeating: 0, count: Int(rate * 0.05))], blockSize: 256)
    }

    func testFileParameterLoadsANAMCaptureThroughTheWorkerAndEqualsFXRender() throws {
        let host = try TestHost(uri: URI.model, sampleRate: 48000)
        load(lstm, into: host, rate: 48000)
        XCTAssertEqual(host.notifiedPaths, [lstm], "the host's file chooser is told the file")
        host.sendPatchGet()
        _ = host.process([[Float](repeating: 0, count: 64)], blockSize: 64)
        XCTAssertEqual(host.notifiedPaths, [lstm, lstm], "and told again when its UI asks")
        XCTAssertEqual(host.latency, 0)
        let input = signal(48000, seconds: 0.4)
        let output = host.process([input], blockSize: 256)[0]
        XCTAssertLessThan(maxDifference(output, try fxrender(input, rate: 48000, ["--model", lstm])), 1e-6)
        XCTAssertEqual(host.allocations, 0, "heap operations in run() and work_response()")
    }

    /// A knob-conditioned NAM WaveNet (NeuralFX's safetensors form) plays
    /// in the loader with its knobs on the control ports, as fxrender plays it.
    func testFileParameterLoadsAKnobWaveNetWhoseKnobsAreThePorts() throws {
        let layer = { (input: Int, channels: Int, head: Int, dilations: [Int]) in
            NAMWaveNetLayerArrayConfig(inputSize: input, conditionSize: 3, headSize: head, channels: channels, kernelSize: 3,
                                       dilations: dilations, activation: .tanh, gated: false, headBias: head == 1)
        }
        let config = NAMWaveNetConfig(layerArrays: [layer(1, 4, 2, [1, 2, 4, 8]), layer(4, 2, 1, [16, 1])], head: nil)
        var rng = SplitMix64(seed: 3)
        var weights = (0..<config.weightCount).map { _ in rng.nextFloat(in: -0.5...0.5) }
        weights[weights.count - 1] = 0.5
        let knobs = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0),
                                .continuous("tone", label: "Tone", range: 0...1, default: 0.5, conditioningIndex: 1)])
        let path = scratch.file("knob-wavenet.safetensors")
        try WaveNetModelFile.save(config: config, weights: weights, to: path, name: "knob wavenet", sampleRate: 48000, knobs: knobs)
        let input = signal(48000, seconds: 0.3)
        var outputs: [[Float]] = []
        for drive: Float in [0.8, 0.1] {
            let host = try TestHost(uri: URI.model, sampleRate: 48000)
            host.set(host.ports.knob(0), drive)
            load(path, into: host, rate: 48000)
            let output = host.process([input], blockSize: 256)[0]
            XCTAssertLessThan(maxDifference(output, try fxrender(input, rate: 48000, ["--model", path, "--knob", "drive=\(drive)"])),
                              1e-6, "drive \(drive)")
            XCTAssertEqual(host.allocations, 0, "heap operations in run() and work_response()")
            outputs.append(output)
        }
        XCTAssertGreaterThan(maxDifference(outputs[0], outputs[1]), 1e-3, "the drive port drives the model")
    }

    /// The stereo loader: two engines, each channel as fxrender renders it alone.
    func testStereoLoaderRunsOneEnginePerChannel() throws {
        let host = try TestHost(uri: URI.modelStereo, sampleRate: 48000)
        host.sendModelFile(lstm)
        _ = host.process([[Float](repeating: 0, count: 2400), [Float](repeating: 0, count: 2400)], blockSize: 256)
        let left = signal(48000, seconds: 0.2), right = signal(48000, seconds: 0.2, channel: 1)
        let output = host.process([left, right], blockSize: 256)
        XCTAssertLessThan(maxDifference(output[0], try fxrender(left, rate: 48000, ["--model", lstm])), 1e-6)
        XCTAssertLessThan(maxDifference(output[1], try fxrender(right, rate: 48000, ["--model", lstm])), 1e-6)
        XCTAssertEqual(host.allocations, 0)
    }

    func testBlockSizesFrom1To8192GiveTheSameOutput() throws {
        let input = signal(44100, seconds: 0.25)
        let reference = try fxrender(input, rate: 44100, ["--knob", "peak=0.7"])
        for block in [1, 5, 64, 1000, 4096, 8192] {
            let host = try TestHost(uri: URI.compressor, sampleRate: 44100)
            host.set(host.ports.knob(1), 0.7)
            XCTAssertLessThan(maxDifference(host.process([input], blockSize: block)[0], reference), 1e-6, "block \(block)")
            XCTAssertEqual(host.allocations, 0, "block \(block)")
        }
        // Resampling inside (a 44.1 kHz model in a 48 kHz host): the same at every block size too.
        let input48 = signal(48000, seconds: 0.25)
        var outputs: [[Float]] = []
        for block in [1, 333, 8192] {
            let host = try TestHost(uri: URI.model, sampleRate: 48000)
            load(modelsDirectory + "/la2a.safetensors", into: host, rate: 48000)
            outputs.append(host.process([input48], blockSize: block)[0])
            XCTAssertEqual(host.allocations, 0, "block \(block)")
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(outputs[0], outputs[2])
    }

    /// At 22.05, 96 and 192 kHz the plugin resamples to the model's rate as
    /// fxhost does, and reports the conversion's latency.
    func testHostRatesOtherThanTheModelsResampleInsideAndReportLatency() throws {
        let model = try ModelFile.load(path: modelsDirectory + "/la2a.safetensors")
        for rate in [22050, 96000, 192000] {
            let host = try TestHost(uri: URI.compressor, sampleRate: Double(rate))
            host.set(host.ports.knob(1), 0.4)
            let input = signal(Double(rate), seconds: 0.2)
            let output = host.process([input], blockSize: 512)[0]
            let engine = EffectEngine(model: model, maxBlockSize: 1024 * 44100 / rate + 2)
            let conversion = try RateConversion(engine: engine, streamRate: rate, modelRate: 44100, maxBlockSize: 1024)
            engine.setKnob(model.knobs.index(of: "peak")!, to: 0.4)
            var expected = [Float](repeating: 0, count: input.count)
            var done = 0
            while done < input.count {
                let n = min(1024, input.count - done)
                input.withUnsafeBufferPointer { x in
                    expected.withUnsafeMutableBufferPointer { conversion.process(x.baseAddress! + done, $0.baseAddress! + done, frameCount: n) }
                }
                done += n
            }
            XCTAssertEqual(host.latency, conversion.latencyFrames, "\(rate) Hz")
            XCTAssertGreaterThan(host.latency, 0)
            XCTAssertLessThan(maxDifference(output, expected), 1e-6, "\(rate) Hz")
            XCTAssertGreaterThan(output.map(abs).max()!, 0.05, "\(rate) Hz")
            XCTAssertEqual(host.allocations, 0)
        }
    }

    func testWithoutAWorkerTheFileParameterIsIgnoredButStateStillLoads() throws {
        let (host, messages) = try capturingStandardError { try TestHost(uri: URI.model, sampleRate: 48000, features: [.map]) }
        XCTAssertTrue(messages.contains("no worker"), messages)
        let input = signal(48000, seconds: 0.2)
        load(lstm, into: host, rate: 48000)
        XCTAssertEqual(host.process([input], blockSize: 128)[0], input, "passes audio through unchanged")
        host.restore(["http://neuralfx.dev/lv2/model#file": ("http://lv2plug.in/ns/ext/atom#Path", Data(lstm.utf8))])
        _ = host.process([[Float](repeating: 0, count: 4800)], blockSize: 128)
        XCTAssertLessThan(maxDifference(host.process([input], blockSize: 128)[0], try fxrender(input, rate: 48000, ["--model", lstm])), 1e-6)
    }

    func testWithNoFeaturesAtAllEveryPluginStillRuns() throws {
        let input = signal(44100, seconds: 0.1)
        for uri in URI.all {
            let host = try TestHost(uri: uri, sampleRate: 44100, features: [])
            let output = host.process(Array(repeating: input, count: host.ports.channels), blockSize: 64)
            XCTAssertTrue(output.allSatisfy { $0.allSatisfy(\.isFinite) }, uri)
            if host.isLoader {
                XCTAssertEqual(output[0], input, "no model: pass-through")
                XCTAssertTrue(host.save().isEmpty, "no URID map: nothing to save")
            }
        }
    }

    /// The project folder moves to another machine: the saved path is
    /// relative to it, and resolves there.
    func testStateSavesTheModelPathThroughPathMappingAndRestoresElsewhere() throws {
        for folder in ["a/models", "b/models"] {
            try FileManager.default.createDirectory(atPath: scratch.file(folder), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: lstm, toPath: scratch.file("a/models/amp.nam"))
        let first = try TestHost(uri: URI.model, sampleRate: 48000, projectDirectory: scratch.file("a"))
        load(scratch.file("a/models/amp.nam"), into: first, rate: 48000)
        let saved = first.save()
        XCTAssertEqual(saved.count, 1)
        let entry = try XCTUnwrap(saved["http://neuralfx.dev/lv2/model#file"])
        XCTAssertEqual(entry.type, "http://lv2plug.in/ns/ext/atom#Path")
        XCTAssertEqual(String(decoding: entry.value, as: UTF8.self), "models/amp.nam\0")

        try FileManager.default.moveItem(atPath: scratch.file("a/models/amp.nam"), toPath: scratch.file("b/models/amp.nam"))
        let second = try TestHost(uri: URI.model, sampleRate: 48000, projectDirectory: scratch.file("b"))
        second.restore(saved)
        let input = signal(48000, seconds: 0.2)
        _ = second.process([[Float](repeating: 0, count: 4800)], blockSize: 256)
        XCTAssertEqual(second.notifiedPaths, [scratch.file("b/models/amp.nam")])
        XCTAssertLessThan(maxDifference(second.process([input], blockSize: 256)[0], try fxrender(input, rate: 48000, ["--model", lstm])), 1e-6)
    }

    /// A project naming a file that is gone: pass-through, one line why, and
    /// the path survives the next save.
    func testMissingModelInStatePassesAudioThroughAndKeepsThePath() throws {
        let host = try TestHost(uri: URI.model, sampleRate: 48000, projectDirectory: scratch.path)
        let saved = ["http://neuralfx.dev/lv2/model#file": ("http://lv2plug.in/ns/ext/atom#Path", Data("models/gone.nam".utf8))]
        let (_, messages) = capturingStandardError { host.restore(saved) }
        XCTAssertEqual(messages.split(separator: "\n").count, 1, messages)
        XCTAssertTrue(messages.contains(scratch.file("models/gone.nam")) && messages.contains("passing audio through"), messages)
        let input = signal(48000, seconds: 0.1)
        XCTAssertEqual(host.process([input], blockSize: 100)[0], input)
        XCTAssertEqual(String(decoding: host.save()["http://neuralfx.dev/lv2/model#file"]?.value ?? Data(), as: UTF8.self),
                       "models/gone.nam\0")
    }

    /// Paths that are not model files at all: one line each, pass-through,
    /// and the next good file still loads.
    func testHostilePathsGetOneLineAndPassThrough() throws {
        let host = try TestHost(uri: URI.model, sampleRate: 48000)
        let input = signal(48000, seconds: 0.05)
        for path in [String(repeating: "x/", count: 3000), "", "/dev/zero", "/proc/self/mem", "/etc/passwd", "\u{1}\u{7f}..//\n"] {
            let (_, messages) = capturingStandardError { load(path, into: host, rate: 48000) }
            XCTAssertEqual(messages.split(separator: "\n").count, 1, "\(path.prefix(20)): \(messages)")
            XCTAssertTrue(messages.contains("passing audio through"), messages)
            XCTAssertEqual(host.process([input], blockSize: 64)[0], input, String(path.prefix(20)))
        }
        load(lstm, into: host, rate: 48000)
        XCTAssertLessThan(maxDifference(host.process([input], blockSize: 64)[0], try fxrender(input, rate: 48000, ["--model", lstm])),
                          1e-6)
        XCTAssertEqual(host.allocations, 0)
    }
}

/// Runs `body` with the process's standard error going to a file; returns what it wrote.
func capturingStandardError<T>(_ body: () throws -> T) rethrows -> (T, String) {
    let path = NSTemporaryDirectory() + "nfx-stderr-" + UUID().uuidString
    fflush(stderr)
    let saved = dup(2)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    dup2(fd, 2)
    close(fd)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result: T
    do {
        result = try body()
    } catch {
        fflush(stderr); dup2(saved, 2); close(saved)
        throw error
    }
    fflush(stderr)
    dup2(saved, 2)
    close(saved)
    return (result, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}
