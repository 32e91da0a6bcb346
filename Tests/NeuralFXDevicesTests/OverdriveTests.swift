import NeuralFXCore
import NeuralFXDevices
import XCTest

final class OverdriveTests: XCTestCase {
    func testHarmonicDistortionGrowsWithDrive() {
        for level in [-30.0, -12] {
            let thd = [0.0, 0.25, 0.5, 0.75, 1].map { OverdriveBench.thd(drive: $0, level: level) }
            print("THD of a 441 Hz sine at \(level) dBFS, drive 0...1:", thd.map { String(format: "%.2f%%", $0 * 100) })
            for (lower, higher) in zip(thd, thd.dropFirst()) { XCTAssertGreaterThan(higher, lower * 1.02, "\(thd)") }
        }
    }

    func testToneMovesTheSpectralCentroidUp() {
        // Broadband input, so there is content on both sides of the tone corner.
        var rng = SplitMix64(seed: 1)
        let input = (0..<88_200).map { _ in Float(rng.nextGaussian() * 0.05) }
        let centroids = [0.0, 0.25, 0.5, 0.75, 1].map { tone in
            Bench.spectralCentroid(Bench.render(OverdriveBench.make(drive: 0.3, tone: tone), input))
        }
        print("spectral centroid of noise at tone 0, 0.25, ..., 1:", centroids.map { String(format: "%.0f Hz", $0) })
        for (lower, higher) in zip(centroids, centroids.dropFirst()) { XCTAssertGreaterThan(higher, lower * 1.02) }
        XCTAssertGreaterThan(centroids[4], centroids[0] * 2)
    }

    func testLevelScalesTheOutput() {
        let input = Bench.sine(hertz: 441, level: -12, seconds: 0.5)
        let reference = Bench.render(OverdriveBench.make(drive: 0.7, level: 1), input)
        var previousRMS = 0.0
        for level in [0.0, 0.25, 0.5, 0.75] {
            let output = Bench.render(OverdriveBench.make(drive: 0.7, level: level), input)
            // Level acts after the nonlinearity: a pure scale of the waveform.
            let scale = Bench.rms(output[...]) / Bench.rms(reference[...])
            for n in stride(from: 1000, to: input.count, by: 997) {
                XCTAssertEqual(Double(output[n]), Double(reference[n]) * scale, accuracy: 1e-5)
            }
            let expectedDecibels = -36 * (1 - level)
            XCTAssertEqual(Bench.decibels(scale), expectedDecibels, accuracy: 0.01)
            XCTAssertGreaterThan(scale, previousRMS)
            previousRMS = scale
        }
    }

    /// Stated bound (docs/devices.md): at full drive, every component of a
    /// 5 kHz sine's output that is not one of its harmonics stays at least
    /// 75 dB below the fundamental at -20 dBFS input, 70 dB at -6 dBFS and
    /// 55 dB at 0 dBFS.
    func testAliasingOfAFiveKilohertzSineAtFullDrive() {
        for (level, bound) in [(-20.0, -75.0), (-6, -70), (0, -55)] {
            let alias = OverdriveBench.worstAlias(drive: 1, level: level)
            print(String(format: "5 kHz at %.0f dBFS, full drive: worst alias %.1f dB at %.0f Hz", level, alias.decibels, alias.frequency))
            XCTAssertLessThan(alias.decibels, bound)
        }
    }

    func testOtherSampleRatesBehaveAlike() {
        for drive in [0.3, 1.0] {
            let reference = OverdriveBench.thd(drive: drive, level: -24)
            for rate in [48_000.0, 96_000] {
                XCTAssertEqual(OverdriveBench.thd(drive: drive, level: -24, rate: rate), reference,
                               accuracy: 0.1 * reference, "\(rate) Hz, drive \(drive)")
            }
        }
    }

    func testBlockSizeDoesNotChangeTheOutputAndResetRestoresTheStart() {
        let d = OverdriveBench.make(drive: 0.8)
        let input = Bench.sine(hertz: 441, level: -6, seconds: 0.3)
        let whole = Bench.render(d, input, blockSize: input.count)
        d.reset()
        XCTAssertEqual(Bench.render(d, input, blockSize: 29), whole)
    }
}
