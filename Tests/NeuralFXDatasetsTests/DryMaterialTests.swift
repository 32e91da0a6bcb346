import NeuralFXCore
import NeuralFXDatasets
import XCTest

final class DryMaterialTests: XCTestCase {
    /// Short-term levels (100 ms RMS, dBFS) of `x`, silent windows left out.
    private func shortTermLevels(_ x: [Float]) -> [Double] {
        stride(from: 0, to: x.count - 4410, by: 4410).compactMap { s in
            let rms = (x[s..<s + 4410].reduce(0.0) { $0 + Double($1) * Double($1) } / 4410).squareRoot()
            return rms > 1e-6 ? 20 * log10(rms) : nil
        }
    }

    func testEveryKindIsAudibleAndBounded() {
        let material = DryMaterial()
        for kind in DryMaterial.Kind.allCases {
            var rng = SplitMix64(seed: 5)
            let x = material.synthesize(kind, length: 88_200, rng: &rng)
            let peak = x.reduce(Float(0)) { max($0, abs($1)) }
            XCTAssertTrue(x.allSatisfy(\.isFinite), "\(kind)")
            XCTAssertGreaterThan(peak, 1e-3, "\(kind)")
        }
    }

    func testLevelsSpanTheRangeWithRealDynamics() {
        let x = DryMaterial().render(seconds: 120, seed: 42)
        XCTAssertEqual(x.count, 120 * 44_100)
        XCTAssertLessThanOrEqual(x.reduce(Float(0)) { max($0, abs($1)) }, 1)
        // Peak level of each second: segments peak anywhere in -40...0 dBFS.
        let peaks = stride(from: 0, to: x.count, by: 44_100).map { s in
            20 * log10(Double(x[s..<s + 44_100].reduce(Float(1e-9)) { max($0, abs($1)) }))
        }.sorted()
        print(String(format: "peak level per second: 10th percentile %.1f dBFS, 90th %.1f dBFS",
                     peaks[peaks.count / 10], peaks[peaks.count * 9 / 10]))
        XCTAssertLessThan(peaks[peaks.count / 10], -30)
        XCTAssertGreaterThan(peaks[peaks.count * 9 / 10], -10)
        // Movement: many level changes of 6 dB or more between neighbouring
        // 100 ms windows, and a wide spread of short-term levels.
        let levels = shortTermLevels(x)
        let jumps = zip(levels, levels.dropFirst()).filter { abs($0 - $1) >= 6 }.count
        XCTAssertGreaterThan(jumps, levels.count / 20)
        let sorted = levels.sorted()
        XCTAssertGreaterThan(sorted[sorted.count * 19 / 20] - sorted[sorted.count / 20], 30)
    }

    func testSameSeedSameMaterialAndClipsAreUsed() {
        let clip = (0..<44_100).map { Float(sin(Double($0) * 0.03)) * 0.5 }
        let a = DryMaterial(clips: [clip]).render(seconds: 30, seed: 9)
        XCTAssertEqual(a, DryMaterial(clips: [clip]).render(seconds: 30, seed: 9))
        XCTAssertNotEqual(a, DryMaterial().render(seconds: 30, seed: 9))
        XCTAssertNotEqual(a, DryMaterial(clips: [clip]).render(seconds: 30, seed: 10))
    }
}
