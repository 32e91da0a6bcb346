import Foundation
import XCTest
import NeuralFXCore

final class GainComputerTests: XCTestCase {
    typealias P = GainComputer.Parameter
    static let sampleRate = 44100.0

    /// A gain computer with no knob dependence but the threshold, which the
    /// first knob raises by 40 dB: at knob 0 it starts at -40 dB.
    func computer(slope: Float = 0, share: Float = 0, feedback: Bool = false, opticalCell: Bool = false) -> GainComputer {
        var w = GainComputerWeights.start(knobs: 1, sampleRate: Self.sampleRate, opticalCell: opticalCell)
        w.knobBias[P.threshold.rawValue] = -40 / Float(GainComputer.thresholdScale)
        w.knobWeight[P.threshold.rawValue] = 40 / Float(GainComputer.thresholdScale)
        w.knobBias[P.slope.rawValue] = slope
        w.knobBias[P.slowShare.rawValue] = share
        return GainComputer(w, knobs: 1, feedback: feedback, opticalCell: opticalCell)
    }

    func gains(_ c: GainComputer, _ x: [Float], knob: Float = 0) -> [Float] {
        var knob = knob
        c.setConditioning(&knob)
        var g = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { c.gains(of: $0.baseAddress!, frames: x.count, into: &g) }
        return g
    }

    func sine(_ n: Int, amplitude: Float) -> [Float] {
        (0..<n).map { amplitude * Float(sin(2 * Double.pi * 997 * Double($0) / Self.sampleRate)) }
    }

    /// Held at a level well above the knee, the reduction settles at
    /// slope · (level - threshold): the static curve, in dB of RMS power.
    func testSteadyReductionFollowsTheStaticCurve() {
        let c = computer(slope: 0.8)  // slope = logistic(0.8)
        let x = sine(Int(8 * Self.sampleRate), amplitude: 0.5)
        _ = gains(c, x)
        let level = 10 * log10(0.125)  // mean square of the sine
        let slope = 1 / (1 + exp(-0.8))
        let expected = slope * (level - -40)
        // The detector ripples at twice the tone's frequency around its mean.
        XCTAssertEqual(Double(c.reductionDecibels), expected, accuracy: 0.3)
        // Silence from the start: no reduction at all.
        c.reset()
        XCTAssertEqual(gains(c, [Float](repeating: 0, count: 1000)).min()!, 1)
    }

    /// The optical cell's detector follows the peaks: the same sine reads
    /// 3 dB higher than its mean square, and the reduction settles at
    /// slope · (peak level - threshold).
    func testOpticalCellDetectorReadsPeaks() {
        let c = computer(slope: 0.8, opticalCell: true)
        _ = gains(c, sine(Int(4 * Self.sampleRate), amplitude: 0.5))
        let slope = 1 / (1 + exp(-0.8))
        // The 1 ms attack charges only near each peak and the 20 ms release
        // sags between them (0.5 ms apart): the follower settles about
        // 0.7 dB under the peak.
        XCTAssertEqual(Double(c.reductionDecibels), slope * (20 * log10(0.5) - -40), accuracy: 0.6)
        XCTAssertGreaterThan(Double(c.reductionDecibels), slope * (10 * log10(0.125) - -40) + 1.5)
    }

    /// The cell's memory: after five seconds of heavy reduction the slow
    /// part lets go over about 2 s, after a tenth of a second over about
    /// 0.7 s (τ₀ 0.5 s, growing by 2 s with a memory that charges over 5 s
    /// while the reduction is over 10 dB), and without the growth over 0.5 s
    /// whatever came before.
    func testOpticalCellReleasesSlowerAfterLongReduction() {
        func remaining(burstSeconds: Double, growth: Bool = true) -> Double {
            var w = GainComputerWeights.start(knobs: 1, sampleRate: Self.sampleRate, opticalCell: true)
            w.knobBias[P.threshold.rawValue] = -40 / Float(GainComputer.thresholdScale)
            w.knobBias[P.slope.rawValue] = 2
            w.knobBias[P.slowShare.rawValue] = 20  // all slow
            if !growth { w.knobBias[P.slowReleaseGrowth.rawValue] = -50 }
            let c = GainComputer(w, knobs: 1, opticalCell: true)
            _ = gains(c, sine(Int(burstSeconds * Self.sampleRate), amplitude: 0.5))
            let held = Double(c.reductionDecibels)
            XCTAssertGreaterThan(held, 20)
            _ = gains(c, [Float](repeating: 0, count: Int(Self.sampleRate)))
            return Double(c.reductionDecibels) / held
        }
        let short = remaining(burstSeconds: 0.1), long = remaining(burstSeconds: 5)
        let fixedShort = remaining(burstSeconds: 0.1, growth: false), fixedLong = remaining(burstSeconds: 5, growth: false)
        // Without growth: one second at τ₀ = 0.5 s, the detector's 20 ms
        // release first.
        XCTAssertEqual(fixedShort, exp(-1 / 0.5), accuracy: 0.02)
        XCTAssertEqual(fixedLong, fixedShort, accuracy: 1e-3)
        // With it: the memory keeps charging while the reduction is heavy,
        // from about 0.02 after the short burst, 0.63 after the long one.
        XCTAssertEqual(short, exp(-1 / 0.75), accuracy: 0.03)
        XCTAssertGreaterThan(long, exp(-1 / 1.9))
        XCTAssertLessThan(long, exp(-1 / 2.6))
    }

    /// With feedback the slope is exp of its parameter, the ratio less one,
    /// and the loop divides it by one plus itself: the same parameter gives
    /// the same static curve as the feed-forward side-chain.
    func testFeedbackHasTheSameStaticCurve() {
        let x = sine(Int(8 * Self.sampleRate), amplitude: 0.5)
        for slope: Float in [-1, 0.8, 2.5] {
            let forward = computer(slope: slope), loop = computer(slope: slope, feedback: true)
            _ = gains(forward, x)
            _ = gains(loop, x)
            XCTAssertGreaterThan(forward.reductionDecibels, 5)
            // The detector's ripple at twice the tone's frequency goes round
            // the loop, which at 13:1 shifts the mean by a few hundredths.
            XCTAssertEqual(loop.reductionDecibels, forward.reductionDecibels, accuracy: 0.02 * forward.reductionDecibels,
                           "slope \(slope)")
        }
    }

    /// After a burst far over the threshold, a feed-forward detector has to
    /// fall all the way from the burst's level before the release starts;
    /// the feedback detector hears the reduced level, just over the
    /// threshold, and lets go at once.
    func testFeedbackReleasesAtOnce() {
        func recovery(feedback: Bool) -> (held: Float, after: Float) {
            var w = GainComputerWeights.start(knobs: 1, sampleRate: Self.sampleRate)
            w.knobBias[P.threshold.rawValue] = -30 / Float(GainComputer.thresholdScale)
            w.knobBias[P.slope.rawValue] = 2.2  // 10:1
            w.knobBias[P.detector.rawValue] = Float(log(0.03 * Self.sampleRate))
            w.knobBias[P.slowShare.rawValue] = -20  // all fast
            let c = GainComputer(w, knobs: 1, feedback: feedback)
            _ = gains(c, sine(Int(Self.sampleRate), amplitude: 0.7))
            let held = c.reductionDecibels
            _ = gains(c, [Float](repeating: 0, count: Int(0.1 * Self.sampleRate)))
            return (held, c.reductionDecibels)
        }
        let forward = recovery(feedback: false), loop = recovery(feedback: true)
        XCTAssertEqual(loop.held, forward.held, accuracy: 1.5)
        XCTAssertGreaterThan(forward.held, 20)
        // 100 ms after: the feed-forward detector is still over the threshold.
        XCTAssertGreaterThan(forward.after, 0.5 * forward.held)
        XCTAssertLessThan(loop.after, 0.25 * loop.held)
    }

    /// The knob map moves the threshold: 40 dB higher at knob 1, so the same
    /// tone at -9 dB RMS is below it and passes unchanged.
    func testKnobsSetTheThreshold() {
        let c = computer(slope: 2)
        let x = sine(Int(2 * Self.sampleRate), amplitude: 0.5)
        XCTAssertLessThan(gains(c, x, knob: 0).last!, 0.1)
        c.reset()
        XCTAssertEqual(gains(c, x, knob: 1).last!, 1, accuracy: 1e-6)
    }

    /// After a loud passage the slow part of the reduction lets go over its
    /// own time constant (1 s at the start), the fast one over 50 ms.
    func testSlowPartReleasesOverItsTimeConstant() {
        let c = computer(slope: 2, share: 0)  // share 0.5
        let loud = sine(Int(3 * Self.sampleRate), amplitude: 0.5)
        _ = gains(c, loud)
        let held = Double(c.reductionDecibels)
        XCTAssertGreaterThan(held, 20)
        let quiet = [Float](repeating: 0, count: Int(Self.sampleRate))
        let after = gains(c, quiet)
        // 1 s later: the fast half (50 ms) is gone, the slow half at 1/e.
        let remaining = -20 * log10(Double(after.last!))
        XCTAssertEqual(remaining / (held / 2), exp(-1), accuracy: 0.06)
        // At 200 ms the fast half has all but gone (e^-4), the slow half barely moved.
        let early = -20 * log10(Double(after[Int(0.2 * Self.sampleRate)]))
        XCTAssertEqual(early / (held / 2), exp(-0.2) + exp(-4), accuracy: 0.06)
    }

    /// Hostile but finite tensors give finite gains in 0...1.
    func testExtremeParametersStayFinite() {
        for value: Float in [-1e30, -80, 80, 1e30] {
            for opticalCell in [false, true] {
                var w = GainComputerWeights.start(knobs: 1, sampleRate: Self.sampleRate, opticalCell: opticalCell)
                w.knobBias = w.knobBias.map { _ in value }
                w.knobWeight = ([value, -value, value, value, -value, value, value, -value, value, -value, value, -value, value])
                    .prefix(w.knobBias.count).map { $0 }
                for feedback in [false, true] {
                    let g = gains(GainComputer(w, knobs: 1, feedback: feedback, opticalCell: opticalCell),
                                  sine(4000, amplitude: 0.9) + [Float](repeating: 0, count: 100), knob: 1)
                    XCTAssertTrue(g.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 },
                                  "value \(value), feedback \(feedback), optical cell \(opticalCell)")
                }
            }
        }
    }

    /// Inside a micro-tcn: a loud burst long before the receptive field still
    /// lowers the output's level, silence gives exact silence, and
    /// `process` is the same at every block size (the streaming test covers
    /// the named configuration; this one runs over many chunks).
    func testInsideAMicroTCN() {
        checkInsideAMicroTCN("utcn-100-c-gain")
        checkInsideAMicroTCN("utcn-100-c-gain-fb")
        // The threshold at +6 dB, between the probe's peaks and the burst's:
        // under the start's -30 dB the peak detector's 20 ms release holds
        // the loop's target up while the 10 ms attack climbs, and a fresh
        // start at 8.4:1 overshoots to 75 dB, below what the burst leaves.
        checkInsideAMicroTCN("utcn-100-c-gain-cell", threshold: 6)
    }

    func checkInsideAMicroTCN(_ name: String, threshold: Float? = nil) {
        var config = MicroTCNConfig.named(name, nparams: 2)!
        config.silenceReferenced = true
        config.residualDelay = 0
        var weights = MicroTCNWeights.random(config, seed: 12)
        weights.gainComputer!.knobBias[P.slope.rawValue] = 2
        if let threshold { weights.gainComputer!.knobBias[P.threshold.rawValue] = threshold / Float(GainComputer.thresholdScale) }
        let burst = testSignal(3 * config.receptiveField, seed: 2).map { $0 * 4 }
        let gap = [Float](repeating: 0, count: 2 * config.receptiveField)
        let probe = testSignal(3000, seed: 4)
        let net = weights.makeNetwork()
        net.prepare(maxBlockSize: 512)
        net.setConditioning([0, 0.5])
        net.reset()
        let heard = burst + gap + probe
        let all = stream(net, heard, blocks: randomBlocks(total: heard.count, maxBlock: 512, seed: 1))
        // Once the burst has left the receptive field, silence in is silence out.
        XCTAssertEqual(all[(burst.count + config.receptiveField)..<(burst.count + gap.count)].map(abs).max()!, 0)
        net.reset()
        let fresh = stream(net, gap + probe, blocks: [Int](repeating: 500, count: (gap.count + probe.count) / 500) + [(gap.count + probe.count) % 500])
        func rms(_ y: ArraySlice<Float>) -> Double { (y.reduce(0.0) { $0 + Double($1 * $1) } / Double(y.count)).squareRoot() }
        XCTAssertLessThan(rms(all.suffix(probe.count)), 0.9 * rms(fresh.suffix(probe.count)), name)
        for maxBlock in [1, 77, 300] {
            let streamed = weights.makeNetwork()
            streamed.prepare(maxBlockSize: maxBlock)
            streamed.setConditioning([0, 0.5])
            streamed.reset()
            let y = stream(streamed, heard, blocks: randomBlocks(total: heard.count, maxBlock: maxBlock, seed: 3))
            XCTAssertEqual(maxAbsDifference(y, all), 0, "\(name), max block \(maxBlock)")
        }
    }
}
