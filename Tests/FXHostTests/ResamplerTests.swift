import Foundation
import NeuralFXHost
import XCTest

final class ResamplerTests: XCTestCase {
    func resample(_ x: [Float], from a: Int, to b: Int, blocks: [Int]) -> [Float] {
        let r = Resampler(inputRate: a, outputRate: b, maxInputBlock: blocks.max()!)
        var out = [Float](repeating: 0, count: r.maxOutput(forInput: x.count) + 64)
        var produced = 0, consumed = 0, k = 0
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                while consumed < x.count {
                    let n = min(blocks[k % blocks.count], x.count - consumed)
                    produced += r.process(x.baseAddress! + consumed, count: n, into: y.baseAddress! + produced)
                    consumed += n
                    k += 1
                }
            }
        }
        return Array(out[..<produced])
    }

    /// Output sample j stands for input time j * in / out exactly: a sine
    /// comes out as the same sine sampled at the new rate, in both directions.
    func testSineKeepsFrequencyAmplitudeAndTime() {
        for (a, b) in [(48000, 44100), (44100, 48000), (44100, 96000)] {
            let x = (0..<a).map { Float(0.8 * sin(2 * Double.pi * 1000 * Double($0) / Double(a))) }
            let y = resample(x, from: a, to: b, blocks: [64])
            XCTAssertGreaterThan(y.count, b - 40)
            // Skip the start (the kernel sees the silence before it).
            let error = (32..<y.count).map { abs(y[$0] - Float(0.8 * sin(2 * Double.pi * 1000 * Double($0) / Double(b)))) }.max()!
            XCTAssertLessThan(error, 2e-3, "\(a) -> \(b)")
        }
    }

    /// Content above the new Nyquist frequency is removed, not folded back.
    func testDownsamplingRejectsWhatCannotBeRepresented() {
        let x = (0..<48000).map { Float(0.8 * sin(2 * Double.pi * 23000 * Double($0) / 48000)) }
        let y = resample(x, from: 48000, to: 44100, blocks: [64])
        XCTAssertLessThan(y[100...].map(abs).max()!, 0.02)
    }

    /// Block boundaries do not change a single sample.
    func testResultDoesNotDependOnBlocking() {
        let x: [Float] = (0..<20000).map { i in
            let tone = 0.5 * sin(Double(i) * 0.01)
            let ripple = Double((i * 7919) % 101) / 1000
            return Float(tone + ripple)
        }
        let whole = resample(x, from: 48000, to: 44100, blocks: [4096])
        let pieces = resample(x, from: 48000, to: 44100, blocks: [1, 63, 64, 500, 17])
        XCTAssertEqual(whole, pieces)
    }
}
