import Foundation
import NeuralFXAudio
import XCTest

final class LoudnessMeterTests: XCTestCase {
    /// Measures per-channel signals fed interleaved in blocks of `block` frames.
    func measure(_ channels: [[Float]], sampleRate: Double, block: Int = 4096) -> LoudnessMeter {
        let meter = LoudnessMeter(sampleRate: sampleRate, channels: channels.count)
        let frames = channels[0].count
        var interleaved = [Float](repeating: 0, count: frames * channels.count)
        for i in 0..<frames { for c in channels.indices { interleaved[i * channels.count + c] = channels[c][i] } }
        interleaved.withUnsafeBufferPointer { p in
            var offset = 0
            while offset < frames {
                let n = min(block, frames - offset)
                meter.process(p.baseAddress! + offset * channels.count, frames: n)
                offset += n
            }
        }
        return meter
    }

    func tone(_ dBFS: Double, seconds: Double, frequency: Double = 1000, sampleRate: Double = 48000) -> [Float] {
        sine(frequency: frequency, amplitude: pow(10, dBFS / 20), sampleRate: sampleRate,
             frames: Int(seconds * sampleRate))
    }

    /// The coefficients BS.1770-4 tabulates for 48 kHz.
    func testKWeightingAt48kMatchesStandard() {
        let k = KWeightingFilter(sampleRate: 48000)
        XCTAssertEqual(k.shelf.b0, 1.53512485958697, accuracy: 1e-9)
        XCTAssertEqual(k.shelf.b1, -2.69169618940638, accuracy: 1e-9)
        XCTAssertEqual(k.shelf.b2, 1.19839281085285, accuracy: 1e-9)
        XCTAssertEqual(k.shelf.a1, -1.69065929318241, accuracy: 1e-9)
        XCTAssertEqual(k.shelf.a2, 0.73248077421585, accuracy: 1e-9)
        XCTAssertEqual(k.highPass.a1, -1.99004745483398, accuracy: 1e-9)
        XCTAssertEqual(k.highPass.a2, 0.99007225036621, accuracy: 1e-9)
    }

    /// A full-scale 1 kHz sine in one channel reads -3.01 LUFS: K-weighting
    /// adds about +0.69 dB at 1 kHz, cancelling the -0.691 offset, and a sine's
    /// mean square is half its peak squared.
    func testFullScaleSineInOneChannel() {
        for rate in [44100.0, 48000.0, 96000.0] {
            let meter = measure([tone(0, seconds: 5, sampleRate: rate)], sampleRate: rate)
            XCTAssertEqual(meter.integratedLoudness, -3.01, accuracy: 0.05, "\(rate) Hz")
            XCTAssertEqual(meter.samplePeakDecibels, 0, accuracy: 0.01)
        }
    }

    func test997HzAtMinus20dBFS() {
        let meter = measure([tone(-20, seconds: 10, frequency: 997, sampleRate: 44100)], sampleRate: 44100)
        XCTAssertEqual(meter.integratedLoudness, -23.0, accuracy: 0.05)
        XCTAssertEqual(meter.samplePeakDecibels, -20, accuracy: 0.01)
    }

    /// EBU Tech 3341 cases 1-5 (stereo, both channels the same 1 kHz sine):
    /// gating must discard the quiet and the near-silent parts.
    func testEBU3341Cases() {
        func stereo(_ parts: [(Double, Double)]) -> LoudnessMeter {
            let signal = parts.flatMap { tone($0.0, seconds: $0.1) }
            return measure([signal, signal], sampleRate: 48000)
        }
        XCTAssertEqual(stereo([(-23, 20)]).integratedLoudness, -23, accuracy: 0.1)
        XCTAssertEqual(stereo([(-33, 20)]).integratedLoudness, -33, accuracy: 0.1)
        XCTAssertEqual(stereo([(-36, 10), (-23, 60), (-36, 10)]).integratedLoudness, -23, accuracy: 0.1)
        XCTAssertEqual(stereo([(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)]).integratedLoudness, -23,
                       accuracy: 0.1)
        XCTAssertEqual(stereo([(-26, 20), (-20, 20.1), (-26, 20)]).integratedLoudness, -23, accuracy: 0.1)
    }

    func testBlockSizeDoesNotMatter() {
        let signal = testSignal(channel: 0, sampleRate: 48000, frames: 100_000)
        let a = measure([signal, signal], sampleRate: 48000, block: 1).integratedLoudness
        let b = measure([signal, signal], sampleRate: 48000, block: 100_000).integratedLoudness
        XCTAssertEqual(a, b, accuracy: 1e-9)
        XCTAssertTrue(a.isFinite)
    }

    func testSilenceAndShortInputHaveNoLoudness() {
        XCTAssertEqual(measure([[Float](repeating: 0, count: 48000)], sampleRate: 48000).integratedLoudness,
                       -.infinity)
        XCTAssertEqual(measure([tone(-20, seconds: 0.3)], sampleRate: 48000).integratedLoudness, -.infinity)
        XCTAssertEqual(measure([tone(-80, seconds: 3)], sampleRate: 48000).integratedLoudness, -.infinity)
        XCTAssertEqual(measure([[Float](repeating: 0, count: 100)], sampleRate: 48000).samplePeakDecibels,
                       -.infinity)
    }
}
