import Foundation
import CAllocationCounter
import NeuralFXAudio
import NeuralFXResampling
import XCTest

final class StreamingResamplerTests: XCTestCase {
    /// Runs `input` (mono) through a resampler in blocks of the given sizes (cycled).
    func resample(_ input: [Float], from a: Double, to b: Double, blocks: [Int], totalOutput: Int64? = nil) throws
        -> (output: [Float], resampler: StreamingResampler) {
        let r = try StreamingResampler(from: a, to: b, channels: 1)
        var output: [Float] = []
        var offset = 0, k = 0
        try input.withUnsafeBufferPointer { p in
            while offset < input.count {
                let n = min(blocks[k % blocks.count], input.count - offset)
                try r.process(p.baseAddress! + offset, frames: n) { output += UnsafeBufferPointer(start: $0, count: $1) }
                offset += n
                k += 1
            }
        }
        try r.finish(totalOutputFrames: totalOutput) { output += UnsafeBufferPointer(start: $0, count: $1) }
        return (output, r)
    }

    /// 44.1k -> 48k -> 44.1k keeps length, pitch, level and the waveform itself.
    func testRoundTripKeepsSine() throws {
        let original = sine(frequency: 997, amplitude: 0.5, sampleRate: 44100, frames: 44100)
        let (up, _) = try resample(original, from: 44100, to: 48000, blocks: [4096])
        XCTAssertEqual(up.count, 48000)
        XCTAssertEqual(estimatedFrequency(up[4800..<43200], sampleRate: 48000), 997, accuracy: 0.01)
        XCTAssertEqual(rms(up[4800..<43200]), 0.5 / 2.0.squareRoot(), accuracy: 1e-4)
        let (back, _) = try resample(up, from: 48000, to: 44100, blocks: [4096])
        XCTAssertEqual(back.count, original.count)
        let interior = 2000..<42100
        let worst = interior.map { abs(back[$0] - original[$0]) }.max()!
        XCTAssertLessThan(worst, 1e-4)
    }

    /// Output does not depend on how the input was cut into blocks, to the
    /// bit: what makes a live stream equal an offline render.
    func testBlockSizesDoNotMatter() throws {
        let input = testSignal(channel: 1, sampleRate: 48000, frames: 30000)
        let (whole, _) = try resample(input, from: 48000, to: 44100, blocks: [30000])
        let (pieces, _) = try resample(input, from: 48000, to: 44100, blocks: [1, 7, 300, 4096, 13, 10000])
        XCTAssertEqual(whole, pieces)
    }

    /// The real-time entry gives the streaming entry's samples, in random
    /// blocks, and allocates nothing.
    func testRealTimeConversionEqualsStreamingAndAllocatesNothing() throws {
        let input = testSignal(channel: 0, sampleRate: 48000, frames: 20000)
        for (a, b) in [(48000.0, 44100.0), (44100.0, 48000.0), (44100.0, 192000.0)] {
            let streamed = try resample(input, from: a, to: b, blocks: [4096]).output
            let r = try StreamingResampler(from: a, to: b, channels: 1, blockFrames: 1024)
            var output = [Float](repeating: 0, count: streamed.count + 8192)
            var generator = SystemRandomNumberGenerator()
            let blocks = (0..<200).map { _ in Int.random(in: 1...1024, using: &generator) }
            var consumed = 0, produced = 0, allocations = 0
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    for block in blocks where consumed < x.count {
                        let n = min(block, x.count - consumed)
                        nfx_allocation_counting_begin()
                        produced += r.convert(x.baseAddress! + consumed, frames: n, into: y.baseAddress! + produced,
                                              capacity: y.count - produced)
                        allocations += Int(nfx_allocation_counting_end())
                        consumed += n
                    }
                }
            }
            XCTAssertEqual(consumed, input.count)
            XCTAssertEqual(Int64(produced), r.outputFramesEmitted)
            XCTAssertEqual(Array(output[..<produced]), Array(streamed[..<produced]), "\(a) -> \(b)")
            XCTAssertGreaterThan(produced, streamed.count - 1000)
            XCTAssertEqual(allocations, 0)
        }
    }

    /// Content above the new Nyquist frequency is removed, not folded back.
    func testDownsamplingRejectsWhatCannotBeRepresented() throws {
        let x = sine(frequency: 23000, amplitude: 0.8, sampleRate: 48000, frames: 48000)
        let y = try resample(x, from: 48000, to: 44100, blocks: [64]).output
        XCTAssertLessThan(y[200..<(y.count - 200)].map(abs).max()!, 1e-4)
    }

    /// No signal delay: an impulse comes out where its time says; the
    /// converter only holds frames back until `finish`.
    func testLatency() throws {
        var input = [Float](repeating: 0, count: 8000)
        input[2000] = 1
        let r = try StreamingResampler(from: 44100, to: 96000, channels: 1)
        var output: [Float] = []
        try input.withUnsafeBufferPointer { p in
            try r.process(p.baseAddress!, frames: input.count) { output += UnsafeBufferPointer(start: $0, count: $1) }
        }
        XCTAssertGreaterThan(r.heldBackFrames, 20)
        XCTAssertLessThan(r.heldBackFrames, 400)
        try r.finish { output += UnsafeBufferPointer(start: $0, count: $1) }
        XCTAssertEqual(r.heldBackFrames, 0)
        let peak = output.indices.max { output[$0] < output[$1] }!
        XCTAssertEqual(Double(peak), 2000 * 96000 / 44100, accuracy: 1)
    }

    func testFinishTrimsOrPadsToRequestedLength() throws {
        let input = testSignal(channel: 0, sampleRate: 48000, frames: 1000)
        XCTAssertEqual(try resample(input, from: 48000, to: 44100, blocks: [64], totalOutput: 900).output.count, 900)
        let padded = try resample(input, from: 48000, to: 44100, blocks: [64], totalOutput: 1200).output
        XCTAssertEqual(padded.count, 1200)
        XCTAssertEqual(padded[1000...].map { abs($0) }.max(), 0)
    }

    func testInterleavedChannelsStaySeparate() throws {
        let left = sine(frequency: 440, amplitude: 0.5, sampleRate: 44100, frames: 20000)
        let right = sine(frequency: 3000, amplitude: 0.25, sampleRate: 44100, frames: 20000)
        var interleaved = [Float](repeating: 0, count: 40000)
        for i in 0..<20000 { interleaved[2 * i] = left[i]; interleaved[2 * i + 1] = right[i] }
        let r = try StreamingResampler(from: 44100, to: 48000, channels: 2)
        var out: [Float] = []
        try interleaved.withUnsafeBufferPointer { p in
            try r.process(p.baseAddress!, frames: 20000) { out += UnsafeBufferPointer(start: $0, count: $1 * 2) }
        }
        try r.finish { out += UnsafeBufferPointer(start: $0, count: $1 * 2) }
        let outLeft = stride(from: 0, to: out.count, by: 2).map { out[$0] }
        let outRight = stride(from: 1, to: out.count, by: 2).map { out[$0] }
        XCTAssertEqual(estimatedFrequency(outLeft[2000..<20000], sampleRate: 48000), 440, accuracy: 0.05)
        XCTAssertEqual(estimatedFrequency(outRight[2000..<20000], sampleRate: 48000), 3000, accuracy: 0.05)
        XCTAssertEqual(rms(outRight[2000..<20000]), 0.25 / 2.0.squareRoot(), accuracy: 1e-3)
    }

    /// A minute and a half of audio (16 MB of floats) streams through with a
    /// resident-memory growth far below the size of the audio.
    func testMemoryStaysFlat() throws {
        let block = sine(frequency: 440, amplitude: 0.5, sampleRate: 44100, frames: 4096)
        let r = try StreamingResampler(from: 44100, to: 48000, channels: 1)
        var produced: Int64 = 0
        var sum = 0.0
        let before = residentBytes()
        try block.withUnsafeBufferPointer { p in
            for _ in 0..<(44100 * 90 / 4096) {
                try r.process(p.baseAddress!, frames: 4096) { out, n in produced += Int64(n); sum += Double(out[0]) }
            }
        }
        try r.finish { _, n in produced += Int64(n) }
        let growth = residentBytes() - before
        XCTAssertEqual(produced, r.expectedOutputFrames)
        XCTAssertTrue(sum.isFinite)
        XCTAssertLessThan(growth, 2 << 20, "resident memory grew by \(growth) bytes")
    }

    func testInvalidRatio() {
        XCTAssertThrowsError(try StreamingResampler(from: 44100, to: 0, channels: 1)) { error in
            XCTAssertTrue("\(error)".hasPrefix("resampling failed: cannot convert"), "\(error)")
        }
    }
}

/// Resident set size of this process, from /proc.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kB = Int(line.split(separator: " ")[1]) else { return 0 }
    return kB * 1024
}
