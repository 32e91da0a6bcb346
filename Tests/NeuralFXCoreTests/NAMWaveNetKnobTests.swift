import XCTest
import CAllocationCounter
import NeuralFXCore

/// `NAMWaveNet` with knob values in its condition: the knobs' mixer columns
/// act as they would per sample, a knob change at any sample gives the same
/// output however the audio is blocked, `reset` finds the silence state under
/// the knobs in force, and nothing in the audio path allocates.
final class NAMWaveNetKnobTests: XCTestCase {
    /// Two small arrays (8 then 16 channels, so both the 8- and 16-row kernels
    /// run), tanh, the second gated with a head bias.
    static func config(knobs: Int) -> NAMWaveNetConfig {
        NAMWaveNetConfig(layerArrays: [
            NAMWaveNetLayerArrayConfig(inputSize: 1, conditionSize: 1 + knobs, headSize: 16, channels: 8, kernelSize: 3,
                                       dilations: [1, 2, 4, 8], activation: .tanh, gated: false, headBias: false),
            NAMWaveNetLayerArrayConfig(inputSize: 8, conditionSize: 1 + knobs, headSize: 1, channels: 16, kernelSize: 2,
                                       dilations: [16, 3], activation: .tanh, gated: true, headBias: true),
        ], head: nil)
    }

    static func blueprint(knobs: Int, seed: UInt64 = 4) -> NAMWaveNetBlueprint {
        let c = config(knobs: knobs)
        var rng = SplitMix64(seed: seed)
        var w = (0..<c.weightCount).map { _ in rng.nextFloat(in: -0.4...0.4) }
        w[w.count - 1] = 0.5
        return NAMWaveNetBlueprint(config: c, weights: w)
    }

    /// The same network without its knob columns: NAM's flat list with each
    /// mixer cut down to its audio column.
    static func withoutKnobs(_ b: NAMWaveNetBlueprint) -> NAMWaveNetBlueprint {
        var w: [Float] = [], cursor = 0
        func copy(_ n: Int) { w += b.weights[cursor..<(cursor + n)]; cursor += n }
        for a in b.config.layerArrays {
            copy(a.inputSize * a.channels)
            for _ in a.dilations {
                copy(a.convChannels * a.channels * a.kernelSize + a.convChannels)
                for _ in 0..<a.convChannels { copy(1); cursor += a.conditionSize - 1 }
                copy(a.channels * a.channels + a.channels)
            }
            copy(a.headSize * a.channels + (a.headBias ? a.headSize : 0))
        }
        copy(1)
        return NAMWaveNetBlueprint(config: config(knobs: 0), weights: w)
    }

    func testZeroKnobsPlayTheNetworkWithoutKnobColumnsAndOtherKnobsChangeIt() {
        let knobbed = Self.blueprint(knobs: 2)
        let plain = NAMWaveNet(Self.withoutKnobs(knobbed))
        let net = NAMWaveNet(knobbed)
        XCTAssertEqual(net.conditioningSize, 2)
        XCTAssertEqual(plain.conditioningSize, 0)
        plain.prepare(maxBlockSize: 256)
        net.prepare(maxBlockSize: 256)
        let x = testSignal(3000)
        let blocks = randomBlocks(total: x.count, maxBlock: 256, seed: 9)
        let reference = stream(plain, x, blocks: blocks)
        var zeros: [Float] = [0, 0]
        net.setConditioning(&zeros)
        net.reset()
        XCTAssertLessThan(maxAbsDifference(stream(net, x, blocks: blocks), reference), 1e-6)
        var knobs: [Float] = [0.8, -0.3]
        net.setConditioning(&knobs)
        net.reset()
        XCTAssertGreaterThan(maxAbsDifference(stream(net, x, blocks: blocks), reference), 1e-2)
    }

    /// A knob change between two calls is a step in the condition at that
    /// sample, whatever the blocks around it.
    func testKnobChangeMidStreamAtRandomBlocksEqualsTheWholeSignal() {
        let n = 6000, change = 2345
        let x = testSignal(n)
        var before: [Float] = [0.2, 0.9], after: [Float] = [0.7, -0.5]
        let whole = NAMWaveNet(Self.blueprint(knobs: 2))
        whole.prepare(maxBlockSize: n)
        whole.setConditioning(&before)
        whole.reset()
        var reference = stream(whole, Array(x[..<change]), blocks: [change])
        whole.setConditioning(&after)
        reference += stream(whole, Array(x[change...]), blocks: [n - change])
        whole.setConditioning(&before)
        whole.reset()
        let unchanged = stream(whole, x, blocks: [n])
        XCTAssertGreaterThan(maxAbsDifference(Array(reference[change...]), Array(unchanged[change...])), 1e-2)
        XCTAssertLessThan(maxAbsDifference(Array(reference[..<change]), Array(unchanged[..<change])), 1e-6)
        for seed: UInt64 in [1, 2, 3] {
            let net = NAMWaveNet(Self.blueprint(knobs: 2))
            net.prepare(maxBlockSize: 512)
            net.setConditioning(&before)
            net.reset()
            var out = stream(net, Array(x[..<change]), blocks: randomBlocks(total: change, maxBlock: 512, seed: seed))
            net.setConditioning(&after)
            out += stream(net, Array(x[change...]), blocks: randomBlocks(total: n - change, maxBlock: 512, seed: seed + 10))
            XCTAssertLessThan(maxAbsDifference(out, reference), 1e-5, "seed \(seed)")
        }
    }

    /// After `reset` the network is where endless silence at the current knobs
    /// leaves it: as if it had heard a receptive field of zeros at them,
    /// from any state.
    func testResetSettlesIntoTheSilenceStateOfTheCurrentKnobs() {
        let b = Self.blueprint(knobs: 2)
        var a: [Float] = [0.9, 0.1], other: [Float] = [-0.6, 0.4]
        let x = testSignal(2000)
        let settled = NAMWaveNet(b)
        settled.prepare(maxBlockSize: 128)
        settled.setConditioning(&other)
        settled.reset()
        settled.setConditioning(&a)
        settled.reset()
        let fromReset = stream(settled, x, blocks: randomBlocks(total: x.count, maxBlock: 128, seed: 5))
        let warmed = NAMWaveNet(b)
        warmed.prepare(maxBlockSize: 128)
        warmed.setConditioning(&other)
        warmed.reset()
        _ = stream(warmed, testSignal(500, seed: 3), blocks: [100, 100, 100, 100, 100])
        warmed.setConditioning(&a)
        let rf = b.config.receptiveField
        _ = stream(warmed, [Float](repeating: 0, count: rf), blocks: randomBlocks(total: rf, maxBlock: 128, seed: 6))
        let fromSilence = stream(warmed, x, blocks: randomBlocks(total: x.count, maxBlock: 128, seed: 7))
        XCTAssertLessThan(maxAbsDifference(fromReset, fromSilence), 1e-5)
        // Silence in, a constant out: the state is steady.
        settled.reset()
        let quiet = stream(settled, [Float](repeating: 0, count: 100), blocks: [1, 2, 40, 57])
        settled.reset()
        let still = stream(settled, [Float](repeating: 0, count: 100), blocks: [100])
        XCTAssertLessThan(maxAbsDifference(quiet, still), 1e-6)
        XCTAssertLessThan(quiet.map { abs($0 - quiet[0]) }.max()!, 1e-6)
    }

    /// Through the engine, a ramped knob move depends only on when it
    /// happened, not on how the audio was blocked.
    func testEngineKnobRampIsIndependentOfBlocking() {
        let knobs = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.3, conditioningIndex: 0),
                                .continuous("tone", label: "Tone", range: 0...10, default: 5, conditioningIndex: 1)])
        let model = EffectModel(name: "w", blueprint: Self.blueprint(knobs: 2), sampleRate: 48000, knobs: knobs)
        let n = 8000, change = 3001
        let x = testSignal(n)
        func render(_ blocks: [Int]) -> [Float] {
            let engine = EffectEngine(model: model, maxBlockSize: 512)
            var y = [Float](repeating: 0, count: n)
            var at = 0
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                for b in blocks {
                    if at == change { engine.setKnob(0, to: 0.9); engine.setKnob(1, to: 2) }
                    engine.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                    at += b
                }
            } }
            return y
        }
        let whole = render([change, n - change])
        let steady = render([n])
        for seed: UInt64 in [11, 12] {
            let head = randomBlocks(total: change, maxBlock: 512, seed: seed)
            let tail = randomBlocks(total: n - change, maxBlock: 512, seed: seed + 1)
            XCTAssertLessThan(maxAbsDifference(render(head + tail), whole), 1e-5, "seed \(seed)")
        }
        XCTAssertGreaterThan(maxAbsDifference(Array(whole[(change + 100)...]), Array(steady[(change + 100)...])), 1e-3)
    }

    func testProcessSetConditioningAndResetAllocateNothing() {
        let knobs = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.3, conditioningIndex: 0),
                                .continuous("tone", label: "Tone", range: 0...1, default: 0.5, conditioningIndex: 1),
                                .continuous("level", label: "Level", range: 0...1, default: 0.5, conditioningIndex: nil,
                                            outputGainDecibels: -36...0)])
        let model = EffectModel(name: "w", blueprint: Self.blueprint(knobs: 2), sampleRate: 48000, knobs: knobs)
        let engine = EffectEngine(model: model, maxBlockSize: 512)
        let net = NAMWaveNet(Self.blueprint(knobs: 2))
        net.prepare(maxBlockSize: 512)
        let x = testSignal(4096)
        var y = [Float](repeating: 0, count: 4096)
        var values: [Float] = [0.1, 0.2]
        let blocks = randomBlocks(total: 4096, maxBlock: 512, seed: 3)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in values.withUnsafeMutableBufferPointer { v in
            nfx_allocation_counting_begin()
            var at = 0
            for (i, b) in blocks.enumerated() {
                if i % 3 == 1 { engine.setKnob(i % 2, to: Double(i % 10) / 10) }
                if i % 7 == 2 { engine.setKnob(2, to: Double(i % 4) / 4) }
                if i % 11 == 5 { engine.reset() }
                engine.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                v[0] = Float(i % 5) / 5
                net.setConditioning(v.baseAddress!)
                if i % 9 == 4 { net.reset() }
                net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                at += b
            }
            XCTAssertEqual(nfx_allocation_counting_end(), 0, "allocations in the real-time path")
        } } }
    }
}
