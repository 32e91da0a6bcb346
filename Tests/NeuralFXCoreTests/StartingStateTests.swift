import XCTest
import NeuralFXCore

/// Where a render starts: the state after endless silence at the knob values
/// in force, never at the defaults, and silence out for silence in where the
/// model is silence-referenced.
final class StartingStateTests: XCTestCase {
    /// The network as micro-tcn computes it at `conditioning`: conditioned
    /// first, then started from silence.
    func reference(_ model: EffectModel, conditioning: [Float], _ x: [Float]) -> [Float] {
        let net = model.blueprint.makeNetwork()
        net.prepare(maxBlockSize: x.count)
        net.setConditioning(conditioning)
        net.reset()
        return stream(net, x, blocks: [x.count])
    }

    func testAFreshEngineStartsAtTheKnobValuesSetBeforeTheFirstSample() {
        let model = testModel("utcn-300-c", seed: 3)
        let x = testSignal(3000)
        let expected = reference(model, conditioning: [1, 0.9], x)
        // Whatever the order, ramped or immediate: nothing has played yet.
        for immediately in [true, false] {
            let engine = EffectEngine(model: model, maxBlockSize: 512)
            engine.setKnob(1, to: 0.9, immediately: immediately)
            engine.setKnob(0, to: 1, immediately: immediately)
            let y = render(engine, x, blocks: randomBlocks(total: x.count, maxBlock: 512, seed: 9))
            XCTAssertLessThanOrEqual(maxAbsDifference(y, expected), 1e-6, "immediately: \(immediately)")
            XCTAssertEqual(engine.appliedKnobValue(1), 0.9)
        }
        // The defect this guards against: the defaults' state, then a jump.
        let defaultsFirst = reference(model, conditioning: [0, 0.5], x)
        XCTAssertGreaterThan(abs(defaultsFirst[0] - expected[0]), 1e-4, "the knobs must matter at the first sample")
    }

    func testResetSettlesAtTheKnobValuesInForceAndThenKnobsRampAgain() {
        let model = testModel(seed: 4)
        let x = testSignal(2000)
        let engine = EffectEngine(model: model, maxBlockSize: 256)
        _ = render(engine, x, blocks: [700])
        engine.setKnob(1, to: 0.1)  // a move while playing: ramps
        XCTAssertNotEqual(engine.appliedKnobValue(1), 0.1)
        engine.reset()
        XCTAssertEqual(engine.appliedKnobValue(1), 0.1)
        XCTAssertLessThanOrEqual(maxAbsDifference(render(engine, x, blocks: [2000]), reference(model, conditioning: [0, 0.1], x)), 1e-6)
        engine.setKnob(1, to: 0.7)
        XCTAssertNotEqual(engine.appliedKnobValue(1), 0.7, "after audio, a knob move ramps")
    }

    func testGainsSetBeforeTheFirstSampleApplyFromIt() {
        let model = testModel(seed: 5)
        let x = testSignal(1000)
        let engine = EffectEngine(model: model, maxBlockSize: 256)
        engine.setOutputGain(decibels: -6)
        let plain = EffectEngine(model: model, maxBlockSize: 256)
        let y = render(engine, x, blocks: [1000]), z = render(plain, x, blocks: [1000])
        let g = Float(pow(10, -6.0 / 20))
        XCTAssertLessThanOrEqual(maxAbsDifference(y, z.map { $0 * g }), 1e-6)
    }

    func silenceReferenced(_ seed: UInt64, on: Bool) -> EffectModel {
        var config = MicroTCNConfig.named("utcn-100-c", nparams: 2)!
        config.silenceReferenced = on
        var weights = MicroTCNWeights.random(config, seed: seed)
        weights.outputBias = [0.02]
        return EffectModel(name: "s", blueprint: weights, sampleRate: 44100, knobs: compressorKnobs())
    }

    func testASilenceReferencedModelGivesSilenceForSilenceAtEveryKnobSetting() {
        let silence = [Float](repeating: 0, count: 6000)
        for (mode, peak) in [(0.0, 0.0), (1.0, 0.35), (0.0, 1.0), (1.0, 0.8)] {
            let engine = EffectEngine(model: silenceReferenced(11, on: true), maxBlockSize: 64)
            engine.setKnob(0, to: mode)
            engine.setKnob(1, to: peak)
            let y = render(engine, silence, blocks: randomBlocks(total: silence.count, maxBlock: 64, seed: 2))
            XCTAssertLessThan(y.map(abs).max()!, 1e-6, "mode \(mode) peak \(peak)")
            // The same weights without the reference leave a knob-dependent constant.
            let raw = EffectEngine(model: silenceReferenced(11, on: false), maxBlockSize: 64)
            raw.setKnob(0, to: mode)
            raw.setKnob(1, to: peak)
            XCTAssertGreaterThan(render(raw, silence, blocks: [6000]).last!.magnitude, 1e-4)
        }
    }

    func testSilenceReferenceIsOnlyAnOffsetAndFollowsKnobMoves() {
        let on = silenceReferenced(12, on: true), off = silenceReferenced(12, on: false)
        let x = testSignal(3000) + [Float](repeating: 0, count: 6000)
        let a = EffectEngine(model: on, maxBlockSize: 128), b = EffectEngine(model: off, maxBlockSize: 128)
        let moves = [(at: 1000, knob: 1, value: 0.9)]
        let blocks = randomBlocks(total: x.count, maxBlock: 128, seed: 4)
        let y = render(a, x, blocks: blocks, moves: moves), z = render(b, x, blocks: blocks, moves: moves)
        // Silence after the move and a receptive field: silence again.
        XCTAssertLessThan(y.suffix(1000).map(abs).max()!, 1e-6)
        // Elsewhere the two differ by the silence output at the knobs in force.
        let offsetBefore = z[0] - y[0], offsetAfter = z.last! - y.last!
        XCTAssertGreaterThan(abs(offsetBefore - offsetAfter), 1e-5, "the offset must depend on the knobs")
        for i in 0..<1000 { XCTAssertEqual(z[i] - y[i], offsetBefore, accuracy: 1e-6) }
        for i in 2000..<x.count { XCTAssertEqual(z[i] - y[i], offsetAfter, accuracy: 1e-6) }
    }
}
