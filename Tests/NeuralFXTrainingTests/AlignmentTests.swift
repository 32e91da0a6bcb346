import XCTest
import NeuralFXCore
import NeuralFXDatasets
import NeuralFXDevices
import NeuralFXTraining

/// Latency and polarity of pairs a real capture gives the estimate trouble
/// with: heavy distortion (harmonics the input lacks) and bass (energy where
/// a plain correlation has broad, ambiguous peaks). Known delays of 0 to 500
/// samples, some pairs inverted, must come out right to one sample.
final class AlignmentTests: XCTestCase {
    static let rate = 48_000.0

    /// Plucked bass notes from 41 to 98 Hz, rich in harmonics, with a little noise.
    static func bassLine(seconds: Double, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        let notes = [41.2, 55.0, 73.4, 98.0, 61.7, 49.0]
        let noteLength = Int(0.4 * rate)
        return (0..<Int(seconds * rate)).map { n in
            let f = notes[(n / noteLength) % notes.count], t = Double(n % noteLength) / rate
            var v = 0.0
            for k in 1...10 { v += sin(2 * .pi * f * Double(k) * t) / Double(k * k) }
            return Float(0.6 * exp(-3 * t) * v) + 0.002 * random.nextFloat(in: -1...1)
        }
    }

    func render(_ device: DeviceKind, _ knobs: [Double], _ x: [Float]) -> [Float] {
        let unit = device.make(sampleRate: Self.rate)
        for (i, v) in knobs.enumerated() { unit.setKnob(i, to: v) }
        return unit.alignedOutput(x)
    }

    func testHeavilyDrivenAndBassHeavyPairsAreAlignedToTheSample() {
        let mix = DryMaterial(sampleRate: Self.rate).render(seconds: 6, seed: 3)
        let bass = Self.bassLine(seconds: 6, seed: 4)
        let cases: [(String, [Float], DeviceKind, [Double])] = [
            ("mix, full drive, dark", mix, .overdrive, [1, 0.1, 0.8]),
            ("mix, full drive, bright", mix, .overdrive, [1, 0.9, 0.8]),
            ("bass, full drive", bass, .overdrive, [1, 0.5, 0.8]),
            ("bass, light drive", bass, .overdrive, [0.3, 0.3, 0.8]),
            ("bass, limiting", bass, .la2a, [1, 1]),
            ("mix, limiting", mix, .la2a, [1, 0.9]),
        ]
        var random = SplitMix64(seed: 2026)
        var wrong: [String] = []
        for (name, x, device, knobs) in cases {
            let y = render(device, knobs, x)
            for trial in 0..<4 {
                let delay = trial == 0 ? 0 : trial == 1 ? 500 : Int(random.next() % 501), inverted = random.next() % 3 == 0
                let target = [Float](repeating: 0, count: delay) + y.dropLast(delay).map { inverted ? -$0 : $0 }
                let (lag, correlation) = DataChecks.estimateLatency(input: x, target: target, maxLag: 4000)
                if abs(lag - delay) > 1 || (correlation < 0) != inverted {
                    wrong.append("\(name): delay \(delay)\(inverted ? " inverted" : "") read as \(lag), correlation \(correlation)")
                }
            }
        }
        XCTAssertEqual(wrong, [])
    }

    /// A pair whose latency differs from the one most pairs share is named.
    func testAPairOffTheCommonLatencyIsNamed() throws {
        let x = DryMaterial(sampleRate: 8000).render(seconds: 2, seed: 9)
        let delays = [12, 12, 12, 40]
        let pairs = delays.enumerated().map { i, d in
            TrainingPair(name: "p\(i)", inputPath: "", targetPath: "", knobValues: [], input: x,
                         target: [Float](repeating: 0, count: d) + x.dropLast(d), sampleRate: 8000, split: nil)
        }
        var data = TrainingDataset(layout: "test", knobs: .empty, pairs: pairs)
        let checks = try DataChecks.run(&data, maxLatency: 100)
        XCTAssertEqual(checks.map(\.latency), delays)
        XCTAssertEqual(checks.map { $0.notes.contains { $0.contains("differs from the 12 of 3 of the 4 pairs") } }, [false, false, false, true])
    }
}

/// Where an error sits in frequency: error energy over the target's own in
/// each of four bands.
final class BandErrorTests: XCTestCase {
    func tone(_ hertz: Double, _ amplitude: Double, _ n: Int, rate: Double) -> [Float] {
        (0..<n).map { Float(amplitude * sin(2 * .pi * hertz * Double($0) / rate)) }
    }

    func testAnErrorAt9kHzShowsInItsBandOnly() {
        let rate = 48_000.0, n = 48_000
        let low = tone(440, 0.5, n, rate: rate), high = tone(9000, 0.1, n, rate: rate), top = tone(15000, 0.05, n, rate: rate)
        let target = (0..<n).map { low[$0] + high[$0] + top[$0] }
        // 10% of the 9 kHz tone wrong: an error 1% of that band's energy.
        let prediction = (0..<n).map { target[$0] + 0.1 * high[$0] }
        let bands = BandErrors(prediction: prediction, target: target, sampleRate: rate)
        let r = bands.ratios
        XCTAssertEqual(r[2]!, 0.01, accuracy: 0.001)
        XCTAssertLessThan(r[0]!, 1e-6)
        XCTAssertLessThan(r[3]!, 1e-6)
        XCTAssertNil(r[1], "2-6 kHz holds no target energy")
        // Pooled sums add.
        let twice = bands + bands
        XCTAssertEqual(twice.ratios[2]!, r[2]!, accuracy: 1e-12)
        XCTAssertTrue(bands.summary.contains("6-12 kHz 0.010"), bands.summary)
    }

    func testBandsAboveNyquistAreEmpty() {
        let x = tone(1000, 0.5, 16_000, rate: 8000)
        XCTAssertEqual(BandErrors(prediction: x, target: x, sampleRate: 8000).ratios.map { $0 == nil }, [false, true, true, true])
    }
}
