import NeuralFXDevices
import XCTest

/// The compressor against the published behaviour of the LA-2A (docs/devices.md).
final class OpticalCompressorTests: XCTestCase {
    func testGainReductionGrowsMonotonicallyWithPeakReduction() {
        for mode in [OpticalCompressor.Mode.compress, .limit] {
            let reductions = stride(from: 0.0, through: 1.0, by: 0.1).map {
                CompressorBench.steadyReduction(peak: $0, mode: mode)
            }
            print("\(mode) gain reduction (dB) at peak 0, 0.1, ..., 1 for a -10 dBFS tone:",
                  reductions.map { String(format: "%.2f", $0) })
            for (lower, higher) in zip(reductions, reductions.dropFirst()) {
                XCTAssertGreaterThanOrEqual(higher, lower - 0.01, "\(mode): \(reductions)")
            }
            XCTAssertLessThan(reductions[0], 0.5, "peak 0 should leave a -10 dBFS tone nearly alone")
            XCTAssertGreaterThan(reductions[10], 15, "peak 1 should reduce a -10 dBFS tone heavily")
        }
    }

    func testLimitReducesMoreThanCompress() {
        for peak in [0.5, 0.7, 0.9] {
            let compress = CompressorBench.steadyReduction(peak: peak, mode: .compress)
            let limit = CompressorBench.steadyReduction(peak: peak, mode: .limit)
            XCTAssertGreaterThan(limit, compress * 1.25 + 1, "peak \(peak): limit \(limit) dB, compress \(compress) dB")
        }
    }

    func testLimitRatioIsMarkedlyHigher() {
        // Output level change for a 10 dB input change, well above threshold.
        for (mode, maximumRise) in [(OpticalCompressor.Mode.compress, 4.5), (.limit, 2.0)] {
            let quieter = CompressorBench.steadyReduction(peak: 0.8, mode: mode, level: -16)
            let louder = CompressorBench.steadyReduction(peak: 0.8, mode: mode, level: -6)
            let outputRise = 10 - (louder - quieter)
            XCTAssertLessThan(outputRise, maximumRise, "\(mode)")
            XCTAssertGreaterThan(outputRise, 0, "\(mode)")
        }
    }

    func testAttackAndTwoStageReleaseFromToneBursts() {
        for mode in [OpticalCompressor.Mode.compress, .limit] {
            for peak in [0.6, 0.9] {
                let b = CompressorBench.ballistics(peak: peak, mode: mode, burstSeconds: 0.5)
                print(String(format: "%@ peak %.1f: reduction %.1f dB, attack %.1f ms, 50%% release %.0f ms, 90%% release %.2f s",
                             "\(mode)", peak, b.reduction, b.attack * 1000, b.halfRelease * 1000, b.fullRelease))
                XCTAssertGreaterThan(b.reduction, 6)
                XCTAssert((0.005...0.015).contains(b.attack), "attack \(b.attack) s")
                XCTAssert((0.040...0.080).contains(b.halfRelease), "fast release \(b.halfRelease) s")
                XCTAssert((0.5...5).contains(b.fullRelease), "slow release \(b.fullRelease) s")
            }
        }
    }

    func testSlowReleaseStretchesAfterLongHeavyReduction() {
        let short = CompressorBench.ballistics(peak: 0.8, burstSeconds: 0.5)
        let long = CompressorBench.ballistics(peak: 0.8, burstSeconds: 20)
        print(String(format: "90%% release after 0.5 s: %.2f s, after 20 s: %.2f s", short.fullRelease, long.fullRelease))
        XCTAssertGreaterThan(long.fullRelease, 2.5 * short.fullRelease)
        XCTAssertLessThanOrEqual(long.fullRelease, 5)
        // The fast stage is not what remembers.
        XCTAssert((0.040...0.080).contains(long.halfRelease), "fast release \(long.halfRelease) s")
    }

    func testOtherSampleRatesBehaveAlike() {
        for rate in [48_000.0, 96_000] {
            for peak in [0.5, 0.8] {
                XCTAssertEqual(CompressorBench.steadyReduction(peak: peak, mode: .compress, rate: rate),
                               CompressorBench.steadyReduction(peak: peak, mode: .compress), accuracy: 0.5, "\(rate) Hz")
            }
        }
    }

    func testBlockSizeDoesNotChangeTheOutputAndResetRestoresTheStart() {
        let c = OpticalCompressor()
        c.setKnob(named: "peak", to: 0.8)
        let input = Bench.toneBursts([(0.2, -40), (0.3, -3), (0.2, -30)])
        let whole = Bench.render(c, input, blockSize: input.count)
        c.reset()
        XCTAssertEqual(Bench.render(c, input, blockSize: 37), whole)
    }
}
