import Foundation
import NeuralFXCore
import NeuralFXHost
import NeuralFXModelFiles
import XCTest

/// The audio-thread processor driven directly, period by period, as a driver
/// would: commands from the control side take effect at the next period and
/// ramp exactly as the engine's own smoothing does.
final class LiveProcessorTests: XCTestCase {
    let rate = 44100.0
    let period = 64

    func makeProcessor(_ model: EffectModel, knobs: [String: Double] = [:]) throws -> LiveProcessor {
        let set = try EngineSet(model: model, channels: 1, streamRate: Int(rate), maxBlockSize: period, knobValues: knobs,
                            inputGainDecibels: 0, outputGainDecibels: 0, midiMap: MidiMap())
        return LiveProcessor(initial: set, sampleRate: rate)
    }

    /// Runs `input` through `processor` a period at a time; before period p,
    /// `control(p)` may send commands.
    func run(_ processor: LiveProcessor, _ input: [Float], control: (Int) -> Void = { _ in }) -> [Float] {
        var output = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for (p, start) in stride(from: 0, to: input.count, by: period).enumerated() {
                    control(p)
                    processor.inputs[0] = x.baseAddress! + start
                    processor.outputs[0] = y.baseAddress! + start
                    processor.beginCycle()
                    processor.render(offset: 0, frameCount: min(period, input.count - start))
                }
            }
        }
        return output
    }

    func engineRun(_ model: EffectModel, _ input: [Float], at change: Int, _ apply: (EffectEngine) -> Void) -> [Float] {
        let e = EffectEngine(model: model, maxBlockSize: period)
        var output = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                e.process(x.baseAddress!, y.baseAddress!, frameCount: change)
                apply(e)
                e.process(x.baseAddress! + change, y.baseAddress! + change, frameCount: input.count - change)
            }
        }
        return output
    }

    func testKnobAndGainCommandsRampLikeTheEngine() throws {
        let model = try TestModels.model(TestModels.a)
        let input = testSignal(count: Int(rate), sampleRate: rate)
        let processor = try makeProcessor(model)
        let output = run(processor, input) { p in
            if p == 100 {
                processor.setKnob(0, to: 0.9)
                processor.setInputGain(decibels: -6)
                processor.setOutputGain(decibels: 3)
            }
        }
        let expected = engineRun(model, input, at: 100 * period) { e in
            e.setKnob(0, to: 0.9)
            e.setInputGain(decibels: -6)
            e.setOutputGain(decibels: 3)
        }
        XCTAssertEqual(output, expected)
        let unchanged = engineRun(model, input, at: 0) { _ in }
        XCTAssertGreaterThan(zip(output, unchanged).map { abs($0 - $1) }.max()!, 1e-2)
    }

    func testBypassFadesToTheDryInputAndBack() throws {
        let model = try TestModels.model(TestModels.a)
        let input = testSignal(count: Int(rate), sampleRate: rate)
        let processor = try makeProcessor(model)
        let output = run(processor, input) { p in
            if p == 100 { processor.setBypass(true) }
            if p == 400 { processor.setBypass(false) }
        }
        let wet = engineRun(model, input, at: 0) { _ in }
        let fade = Int(LiveProcessor.crossfadeSeconds * rate)
        XCTAssertEqual(Array(output[..<(100 * period)]), Array(wet[..<(100 * period)]))
        XCTAssertEqual(Array(output[(100 * period + fade)..<(400 * period)]), Array(input[(100 * period + fade)..<(400 * period)]))
        // Back to the effect, whose engine kept running underneath.
        let back = 400 * period + fade
        XCTAssertLessThanOrEqual(zip(output[back...], wet[back...]).map { abs($0 - $1) }.max()!, 1e-6)
        // The fades themselves move no faster than the dry/wet gap allows.
        func maxStep(_ x: [Float]) -> Float { zip(x.dropFirst(), x).map { abs($0 - $1) }.max()! }
        let gap: Float = zip(input, wet).map { abs($0 - $1) }.max()!
        let bound: Float = max(maxStep(wet), maxStep(input)) + gap / Float(fade) + 1e-6
        XCTAssertLessThanOrEqual(maxStep(output), bound)
    }

    func testDCBlockerRemovesTheOutputOffset() throws {
        let model = try TestModels.model(TestModels.a)
        let input = testSignal(count: Int(2 * rate), sampleRate: rate)
        let plain = run(try makeProcessor(model), input)
        let processor = try makeProcessor(model)
        processor.setDCBlocker(true)
        let blocked = run(processor, input)
        let tail = Int(rate)...
        func mean(_ x: ArraySlice<Float>) -> Float { x.reduce(0, +) / Float(x.count) }
        XCTAssertGreaterThan(abs(mean(plain[tail])), 0.1, "the random model has an offset to remove")
        XCTAssertLessThan(abs(mean(blocked[tail])), 0.01)
    }

    /// The set replaced by a switch stays alive until the control side
    /// collects it: the audio thread never drops the last reference.
    func testReplacedModelIsFreedOnlyByTheControlSide() throws {
        func makeSet(_ name: String) throws -> EngineSet {
            try EngineSet(model: try TestModels.model(name), channels: 1, streamRate: Int(rate), maxBlockSize: period,
                      knobValues: [:], inputGainDecibels: 0, outputGainDecibels: 0, midiMap: MidiMap())
        }
        var first: EngineSet? = try makeSet(TestModels.a)
        weak let firstWatch = first
        let processor = LiveProcessor(initial: first!, sampleRate: rate)
        first = nil
        XCTAssertTrue(processor.install(try makeSet(TestModels.b)))
        _ = run(processor, testSignal(count: Int(0.1 * rate), sampleRate: rate))
        XCTAssertTrue(processor.isSettled)
        XCTAssertEqual(processor.statistics.switches, 1)
        XCTAssertNotNil(firstWatch, "handed back by the audio thread, not freed there")
        processor.collectRetired()
        XCTAssertNil(firstWatch, "freed by the control side")
    }

    /// micro-tcn's PyTorch output for the fixture made at mode=limit,
    /// peak=0.35 (tools/make_microtcn_fixtures.py); the defaults are
    /// compress and 0.5.
    func knobFixture() throws -> (model: EffectModel, input: [Float], output: [Float]) {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NeuralFXModelFilesTests/Fixtures/microtcn")
        let io = try Safetensors.parse(Data(contentsOf: fixtures.appendingPathComponent("converted-checkpoint-io.safetensors"))).tensors
        XCTAssertEqual(io["conditioning"]!.values, [1, 0.35])
        return (try ModelFile.load(path: fixtures.appendingPathComponent("converted-checkpoint.safetensors").path),
                io["input"]!.values, io["output"]!.values)
    }

    /// Every engine set (start, load, preset, program change all build one)
    /// starts at its knob values from the first sample.
    func testAStartingModelPlaysAtItsKnobValuesFromTheFirstSample() throws {
        let (model, input, expected) = try knobFixture()
        let output = run(try makeProcessor(model, knobs: ["mode": 1, "peak": 0.35]), input)
        XCTAssertLessThan(zip(output, expected).map { abs($0 - $1) }.max()!, 1e-5)
    }

    /// A model switched in mid-stream is at its knob values from the switch's
    /// first sample: the crossfade runs from the old model's output to
    /// exactly PyTorch's output for the input from the switch on.
    func testASwitchedInModelPlaysAtItsKnobValuesFromTheSwitch() throws {
        let (model, fixtureInput, expected) = try knobFixture()
        let lead = 10 * period
        let input = testSignal(count: lead, sampleRate: rate) + fixtureInput
        let processor = try makeProcessor(model)  // at the defaults
        let old = engineRun(model, input, at: 0) { _ in }
        let set = try EngineSet(model: model, channels: 1, streamRate: Int(rate), maxBlockSize: period,
                                knobValues: ["mode": 1, "peak": 0.35], inputGainDecibels: 0, outputGainDecibels: 0,
                                midiMap: MidiMap())
        let output = run(processor, input) { p in
            if p == lead / self.period {
                XCTAssertTrue(processor.install(set))
            }
        }
        XCTAssertEqual(Array(output[..<lead]), Array(old[..<lead]))
        let fade = Int(LiveProcessor.crossfadeSeconds * rate)
        var worst: Float = 0
        for i in 0..<fixtureInput.count {
            let f = min(Float(i + 1) / Float(fade), 1)
            worst = max(worst, abs(output[lead + i] - (old[lead + i] + (expected[i] - old[lead + i]) * f)))
        }
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertGreaterThan(fixtureInput.count, fade + 500, "the check must reach past the fade")
    }
}
