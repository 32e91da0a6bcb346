import Foundation
import NeuralFXAudio
import XCTest

final class AudioFileTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// Lossless containers give back what was written, to the precision of
    /// the sample format, with the header describing it.
    func testLosslessRoundTrips() throws {
        let cases: [(String, AudioContainer, AudioSampleFormat, Int, Int, Float)] = [
            ("a.wav", .wav, .float, 44100, 1, 0),
            ("b.wav", .wav, .pcm16, 48000, 2, 1.0 / 32768),
            ("c.wav", .wav, .pcm24, 96000, 2, 1.0 / 8_388_608),
            ("d.flac", .flac, .pcm16, 44100, 2, 1.0 / 32768),
            ("e.flac", .flac, .pcm24, 48000, 1, 1.0 / 8_388_608),
            ("f.aiff", .aiff, .pcm24, 44100, 2, 1.0 / 8_388_608),
            ("g.aif", .aiff, .float, 22050, 3, 0),
            ("h.caf", .caf, .double, 32000, 1, 1e-7),
        ]
        for (name, container, format, rate, channelCount, step) in cases {
            let path = scratch.file(name)
            let frames = 10_000 + rate / 100
            let written = (0..<channelCount).map { testSignal(channel: $0, sampleRate: Double(rate), frames: frames) }
            try writeFile(path, written, sampleRate: rate, sampleFormat: format)
            let reader = try AudioFileReader(path: path)
            XCTAssertEqual(reader.sampleRate, rate, name)
            XCTAssertEqual(reader.channels, channelCount, name)
            XCTAssertEqual(reader.frames, Int64(frames), name)
            XCTAssertEqual(reader.container, container, name)
            XCTAssertEqual(reader.sampleFormat, format, name)
            let read = try reader.readAll()
            XCTAssertEqual(read.count, channelCount, name)
            for c in 0..<channelCount {
                XCTAssertEqual(read[c].count, frames, name)
                let error = zip(read[c], written[c]).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(error, step, "\(name) channel \(c)")
            }
        }
    }

    /// Lossy codecs keep length (within a codec frame), pitch and level.
    func testLossyRoundTrips() throws {
        for (name, container, format) in [("a.ogg", AudioContainer.ogg, AudioSampleFormat.vorbis),
                                          ("b.mp3", .mp3, .mp3)] {
            let path = scratch.file(name)
            let rate = 44100, frames = 44100
            let tone = sine(frequency: 1000, amplitude: 0.5, sampleRate: Double(rate), frames: frames)
            try writeFile(path, [tone, tone], sampleRate: rate, sampleFormat: format)
            let reader = try AudioFileReader(path: path)
            XCTAssertEqual(reader.container, container, name)
            XCTAssertEqual(reader.sampleFormat, format, name)
            XCTAssertEqual(reader.channels, 2, name)
            XCTAssertEqual(reader.sampleRate, rate, name)
            let read = try reader.readAll()
            XCTAssertEqual(Double(read[0].count), Double(frames), accuracy: 2304, name)
            let middle = read[1][10_000..<30_000]
            XCTAssertEqual(estimatedFrequency(middle, sampleRate: Double(rate)), 1000, accuracy: 1, name)
            XCTAssertEqual(20 * log10(rms(middle) / (0.5 / 2.0.squareRoot())), 0, accuracy: 0.5, name)
        }
    }

    func testDeinterleavedReadMatchesInterleaved() throws {
        let path = scratch.file("s.wav")
        let written = (0..<2).map { testSignal(channel: $0, sampleRate: 48000, frames: 5000) }
        try writeFile(path, written, sampleRate: 48000, sampleFormat: .float)
        let reader = try AudioFileReader(path: path)
        var left = [Float](repeating: 0, count: 1000), right = [Float](repeating: 0, count: 1000)
        var got: [[Float]] = [[], []]
        while true {
            let n = try left.withUnsafeMutableBufferPointer { l in
                try right.withUnsafeMutableBufferPointer { r in
                    try reader.read(into: [l.baseAddress!, r.baseAddress!], maxFrames: 1000)
                }
            }
            if n == 0 { break }
            got[0] += left[0..<n]
            got[1] += right[0..<n]
        }
        XCTAssertEqual(got, written)
    }

    /// Integer formats clip beyond full scale instead of wrapping around.
    func testIntegerFormatsClip() throws {
        let path = scratch.file("loud.wav")
        try writeFile(path, [[1.5, -1.5, 0.25]], sampleRate: 44100, sampleFormat: .pcm16)
        let read = try AudioFileReader(path: path).readAll()[0]
        XCTAssertEqual(read[0], 1, accuracy: 1e-4)
        XCTAssertEqual(read[1], -1, accuracy: 1e-4)
        XCTAssertEqual(read[2], 0.25, accuracy: 1e-4)
    }

    func testSampleFormatChoice() throws {
        func choose(_ requested: AudioSampleFormat?, _ input: AudioSampleFormat?, _ container: AudioContainer) throws
            -> AudioSampleFormat {
            try AudioFileWriter.sampleFormat(requested: requested, input: input, container: container, channels: 2,
                                             sampleRate: 44100)
        }
        XCTAssertEqual(try choose(nil, .pcm16, .wav), .pcm16)  // kept
        XCTAssertEqual(try choose(nil, .float, .flac), .pcm24)  // FLAC stores no float
        XCTAssertEqual(try choose(nil, .mp3, .wav), .float)  // decoded lossy input
        XCTAssertEqual(try choose(nil, .pcm24, .ogg), .vorbis)
        XCTAssertEqual(try choose(.pcm16, .float, .wav), .pcm16)
        XCTAssertThrowsError(try choose(.float, nil, .flac)) { error in
            XCTAssertEqual("\(error)", "FLAC cannot store float samples; it can store pcm8, pcm16, pcm24")
        }
    }

    func testReadErrorsAreOneLine() throws {
        func message(_ path: String) -> String {
            do { _ = try AudioFileReader(path: path); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(scratch.file("missing.wav")), "'\(scratch.file("missing.wav"))': no such file")
        XCTAssertEqual(message(scratch.path), "'\(scratch.path)' is a directory, not an audio file")

        let garbage = scratch.file("garbage.wav")
        var seed: UInt64 = 7
        let bytes = (0..<4000).map { _ -> UInt8 in seed = seed &* 6364136223846793005 &+ 1; return UInt8(seed >> 56) }
        FileManager.default.createFile(atPath: garbage, contents: Data(bytes))
        let corrupt = message(garbage)
        XCTAssertTrue(corrupt.hasPrefix("cannot read '\(garbage)': "), corrupt)
        XCTAssertFalse(corrupt.contains("\n"))

        let empty = scratch.file("empty.flac")
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertTrue(message(empty).hasPrefix("cannot read '\(empty)': "), message(empty))

        // A valid header whose data stops early reads as the frames present.
        let whole = scratch.file("whole.wav")
        try writeFile(whole, [testSignal(channel: 0, sampleRate: 44100, frames: 1000)], sampleRate: 44100,
                      sampleFormat: .pcm16)
        let truncated = scratch.file("truncated.wav")
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        try data.prefix(data.count - 600).write(to: URL(fileURLWithPath: truncated))
        XCTAssertEqual(try AudioFileReader(path: truncated).readAll()[0].count, 700)
    }

    func testWriteErrors() throws {
        XCTAssertThrowsError(try AudioFileWriter(path: scratch.file("out.xyz"), sampleRate: 44100, channels: 1,
                                                 sampleFormat: .float)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot tell the output format from"), "\(error)")
        }
        XCTAssertThrowsError(try AudioFileWriter(path: scratch.file("no/such/dir/out.wav"), sampleRate: 44100,
                                                 channels: 1, sampleFormat: .float)) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot create '\(scratch.file("no/such/dir/out.wav"))': "), "\(error)")
        }
    }
}
