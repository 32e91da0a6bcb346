import XCTest
import CAllocationCounter
import NeuralFXCore

final class RealTimeSafetyTests: XCTestCase {
    func testTheCounterSeesAllocations() {
        nfx_allocation_counting_begin()
        let a = [Float](repeating: 1, count: 1000)
        let b = a.map { $0 * 2 }
        let seen = nfx_allocation_counting_end()
        XCTAssertEqual(b.count, 1000)
        XCTAssertGreaterThan(seen, 0)
    }

    /// Processing, knob moves and resets allocate nothing, at any block size.
    func testEngineProcessAllocatesNothing() {
        for config in ["utcn-100-c", "utcn-300-c", "tcn-324", "utcn-100-c-env", "utcn-100-c-gain", "utcn-100-c-gain-cell", "level knob",
                       "silence-referenced"] {
            let model: EffectModel
            switch config {
            case "level knob": model = levelKnobModel()
            case "silence-referenced":
                var c = MicroTCNConfig.named("utcn-300-c", nparams: 2)!
                c.silenceReferenced = true
                model = EffectModel(name: "s", blueprint: MicroTCNWeights.random(c, seed: 2), sampleRate: 44100, knobs: compressorKnobs())
            default: model = testModel(config)
            }
            let engine = EffectEngine(model: model, maxBlockSize: 512)
            let x = testSignal(4096)
            var y = [Float](repeating: 0, count: 4096)
            let blocks = randomBlocks(total: 4096, maxBlock: 700, seed: 3)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    nfx_allocation_counting_begin()
                    var at = 0
                    for (i, b) in blocks.enumerated() {
                        if i % 7 == 3 { engine.setKnob(1, to: Double(i % 10) / 10) }
                        if i % 11 == 5 { engine.setKnob(0, to: Double(i % 2)) }
                        if i % 13 == 6 { engine.setKnob(model.knobs.count - 1, to: Double(i % 3) / 2) }
                        if i == 20 { engine.reset() }
                        if i % 5 == 0 { engine.setOutputGain(decibels: -3) }
                        engine.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                        at += b
                    }
                    let count = nfx_allocation_counting_end()
                    XCTAssertEqual(count, 0, "\(config): allocations in the real-time path")
                }
            }
        }
    }
}
