import XCTest
import NeuralFXCore

func compressorKnobs() -> KnobSchema {
    KnobSchema([
        .switchKnob("mode", label: "Mode", positions: ["compress", "limit"], default: 0, conditioningIndex: 0),
        .continuous("peak", label: "Peak Reduction", range: 0...1, default: 0.5, conditioningIndex: 1),
    ])
}

/// Drive and tone feed the network; level is an output gain of -36...0 dB.
func overdriveKnobs() -> KnobSchema {
    KnobSchema([
        .continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0),
        .continuous("tone", label: "Tone", range: 0...1, default: 0.5, conditioningIndex: 1),
        .continuous("level", label: "Level", range: 0...1, default: 0.5, conditioningIndex: nil, outputGainDecibels: -36...0),
    ])
}

func levelKnobModel(seed: UInt64 = 1) -> EffectModel {
    EffectModel(name: "test", blueprint: MicroTCNWeights.random(MicroTCNConfig.named("utcn-100-c", nparams: 2)!, seed: seed),
                sampleRate: 44100, knobs: overdriveKnobs())
}

func testModel(_ config: String = "utcn-100-c", seed: UInt64 = 1) -> EffectModel {
    EffectModel(name: "test", blueprint: MicroTCNWeights.random(MicroTCNConfig.named(config, nparams: 2)!, seed: seed),
                sampleRate: 44100, knobs: compressorKnobs())
}

/// Runs the engine over `x` in the given blocks, applying knob moves at
/// absolute sample positions (a move lands at the start of the first block
/// that begins at or after its position, so positions are block starts).
func render(_ engine: EffectEngine, _ x: [Float], blocks: [Int], moves: [(at: Int, knob: Int, value: Double)] = []) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    var at = 0
    var pending = moves
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            for b in blocks {
                var len = b
                while let m = pending.first, m.at <= at { engine.setKnob(m.knob, to: m.value); pending.removeFirst() }
                if let m = pending.first, m.at < at + len { len = m.at - at }
                var done = 0
                while done < b {
                    let seg = min(len, b - done)
                    engine.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: seg)
                    at += seg
                    done += seg
                    while let m = pending.first, m.at <= at { engine.setKnob(m.knob, to: m.value); pending.removeFirst() }
                    len = b - done
                    if let m = pending.first, m.at < at + len { len = m.at - at }
                }
            }
        }
    }
    return y
}

final class EffectEngineTests: XCTestCase {
    func testKnobMovesStreamIdenticallyForAnyBlocking() {
        let x = testSignal(12000)
        let moves: [(at: Int, knob: Int, value: Double)] = [(1000, 1, 0.9), (1010, 0, 1), (5000, 1, 0.1), (9001, 0, 0)]
        let reference = render(EffectEngine(model: testModel(), maxBlockSize: 12000), x, blocks: [12000], moves: moves)
        for seed in 0..<3 as Range<UInt64> {
            let maxBlock = [1, 64, 700][Int(seed)]
            let engine = EffectEngine(model: testModel(), maxBlockSize: maxBlock)
            let y = render(engine, x, blocks: randomBlocks(total: x.count, maxBlock: maxBlock * 3, seed: seed), moves: moves)
            XCTAssertLessThan(maxAbsDifference(y, reference), 1e-6, "max block \(maxBlock)")
        }
    }

    func testKnobChangeRampsOverAboutTwentyMilliseconds() {
        let engine = EffectEngine(model: testModel(), maxBlockSize: 64)
        let index = engine.knobs.index(of: "peak")!
        var applied: [Double] = []
        let x = [Float](repeating: 0.1, count: 32)
        var y = [Float](repeating: 0, count: 32)
        // Before the first sample a knob is a starting point; once playing, a move.
        engine.process(x, &y, frameCount: 32)
        engine.setKnob(index, to: 1)
        for _ in 0..<40 {
            engine.process(x, &y, frameCount: 32)
            applied.append(engine.appliedKnobValue(index))
        }
        let rampBlocks = applied.firstIndex(of: 1)! + 1
        let rampMs = Double(rampBlocks * 32) / 44.1
        XCTAssertEqual(rampMs, 20, accuracy: 1.5)
        // Monotonic, in steps no larger than one control interval's share.
        for (a, b) in zip(applied, applied.dropFirst()) {
            XCTAssertGreaterThanOrEqual(b, a)
            XCTAssertLessThanOrEqual(b - a, 0.5 / 27 + 1e-9)
        }
    }

    /// A knob jump without smoothing makes a step in the output; with it the
    /// largest sample-to-sample change stays close to that of the signal.
    func testSmoothingRemovesTheStepOfAKnobJump() {
        // Constant input: once the receptive field (4445) has filled, only the knob move changes the output.
        let x = [Float](repeating: 0.3, count: 13230)
        func largestStep(ramp: Double) -> Float {
            let engine = EffectEngine(model: testModel(seed: 4), maxBlockSize: 256, rampSeconds: ramp)
            let y = render(engine, x, blocks: [Int](repeating: 441, count: 30), moves: [(8820, 1, 1.0), (8820, 0, 1)])
            return zip(y.dropFirst(), y).dropFirst(8000).map { abs($0 - $1) }.max()!
        }
        let abrupt = largestStep(ramp: 0)
        let smooth = largestStep(ramp: 0.02)
        XCTAssertGreaterThan(abrupt, 1e-3, "the knob move must change the output for this test to mean anything")
        XCTAssertLessThan(smooth, abrupt / 5)
    }

    func testNonFiniteInputResetsAndIsCounted() {
        let engine = EffectEngine(model: testModel(), maxBlockSize: 128)
        var x = testSignal(1024)
        x[300] = .nan
        x[700] = .infinity
        var y = [Float](repeating: 0, count: 1024)
        for start in stride(from: 0, to: 1024, by: 128) {
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    engine.process(xp.baseAddress! + start, yp.baseAddress! + start, frameCount: 128)
                }
            }
        }
        XCTAssertTrue(y.allSatisfy(\.isFinite))
        XCTAssertEqual(engine.nonFiniteResets, 2)
        // From the last bad block on (it starts at 640), the engine runs as a
        // freshly reset one would on the input with the bad sample zeroed.
        let fresh = EffectEngine(model: testModel(), maxBlockSize: 128)
        var tail = Array(x[640...])
        tail[700 - 640] = 0
        var expected = [Float](repeating: 0, count: tail.count)
        fresh.process(&tail, &expected, frameCount: tail.count)
        XCTAssertLessThan(maxAbsDifference(Array(y[640...]), expected), 1e-6)
    }

    /// A level knob scales the network's output by its gain and changes
    /// nothing else; moved, it ramps per sample and streams identically for
    /// any blocking.
    func testLevelKnobIsAnOutputGainOutsideTheNetwork() {
        let x = testSignal(4096)
        let loud = EffectEngine(model: levelKnobModel(), maxBlockSize: 4096)
        let quiet = EffectEngine(model: levelKnobModel(), maxBlockSize: 4096)
        loud.setKnob(2, to: 1, immediately: true)
        quiet.setKnob(2, to: 0.25, immediately: true)
        var a = [Float](repeating: 0, count: x.count), b = a
        loud.process(x, &a, frameCount: x.count)
        quiet.process(x, &b, frameCount: x.count)
        let gain = Float.pow(10, -27.0 / 20)  // level 0.25 of -36...0 dB
        XCTAssertGreaterThan(a.map(abs).max()!, 0.01)
        for i in x.indices { XCTAssertEqual(b[i], a[i] * gain, accuracy: 1e-6) }

        let moves: [(at: Int, knob: Int, value: Double)] = [(500, 2, 0), (700, 0, 0.9), (2000, 2, 0.8), (3001, 2, 0.3)]
        let reference = render(EffectEngine(model: levelKnobModel(), maxBlockSize: 4096), x, blocks: [4096], moves: moves)
        for seed in 0..<3 as Range<UInt64> {
            let maxBlock = [1, 64, 700][Int(seed)]
            let y = render(EffectEngine(model: levelKnobModel(), maxBlockSize: maxBlock), x,
                           blocks: randomBlocks(total: x.count, maxBlock: maxBlock * 3, seed: seed), moves: moves)
            XCTAssertLessThan(maxAbsDifference(y, reference), 1e-6, "max block \(maxBlock)")
        }
        // The level ramp from -18 dB (the default) to -36 dB at sample 500
        // moves the gain monotonically, sample by sample, to its end.
        let steady = EffectEngine(model: levelKnobModel(), maxBlockSize: 4096)
        var unmoved = [Float](repeating: 0, count: x.count)
        steady.process(x, &unmoved, frameCount: x.count)
        let ramped = render(EffectEngine(model: levelKnobModel(), maxBlockSize: 4096), x, blocks: [4096], moves: [(500, 2, 0)])
        var gains: [Float] = []
        for i in 500..<1500 where abs(unmoved[i]) > 1e-3 { gains.append(ramped[i] / unmoved[i]) }
        XCTAssertEqual(gains.first!, 1, accuracy: 0.01)
        XCTAssertEqual(gains.last!, Float.pow(10, -18.0 / 20), accuracy: 1e-4)
        for (g, h) in zip(gains, gains.dropFirst()) { XCTAssertLessThanOrEqual(h, g + 1e-5, "the gain only falls") }
    }

    func testGainsAreAppliedInDecibels() {
        let model = testModel()
        let plain = EffectEngine(model: model, maxBlockSize: 512)
        let boosted = EffectEngine(model: model, maxBlockSize: 512)
        boosted.setOutputGain(decibels: 6, immediately: true)
        let x = testSignal(512)
        var a = [Float](repeating: 0, count: 512), b = a
        plain.process(x, &a, frameCount: 512)
        boosted.process(x, &b, frameCount: 512)
        for i in 0..<512 { XCTAssertEqual(b[i], a[i] * 1.9952623, accuracy: 1e-5) }
    }
}
