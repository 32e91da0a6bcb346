import Foundation
import NeuralFXAudio
import XCTest

/// fxrender at the edges of what a user may hand it: each case works or
/// gets one clear line.
final class ResourceLimitTests: XCTestCase {
    var scratch: ScratchDirectory!
    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    func run(_ arguments: [String]) throws -> RunResult { try runFXRender(arguments, home: scratch.path) }

    func testAOneChannelFileOfZeroFramesIsOneClearLine() throws {
        try AudioFileWriter(path: scratch.file("empty.wav"), sampleRate: 44100, channels: 1, sampleFormat: .float).finish()
        let before = scratch.allFiles
        assertFails(try run([scratch.file("empty.wav"), scratch.file("out.wav"), "--model", "la2a"]),
                    mentioning: ["empty.wav", "contains no audio (0 frames)"], filesBefore: before, scratch: scratch)
    }

    /// Every one of 64 channels runs through its own engine: each equals the
    /// render of that channel alone.
    func testSixtyFourChannels() throws {
        let channels = (0..<64).map { c in testSignal(channel: c % 7, sampleRate: 44100, frames: 2205).map { $0 * Float(1 + c % 3) / 3 } }
        try writeAudio(scratch.file("many.wav"), channels, sampleRate: 44100)
        let result = try run([scratch.file("many.wav"), scratch.file("many-out.wav"), "--model", "la2a"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = try AudioFileReader(path: scratch.file("many-out.wav")).readAll()
        XCTAssertEqual(out.count, 64)
        for c in [0, 13, 63] {
            try writeAudio(scratch.file("one.wav"), [channels[c]], sampleRate: 44100)
            XCTAssertEqual(try run([scratch.file("one.wav"), scratch.file("one-out.wav"), "--model", "la2a", "--force"]).status, 0)
            XCTAssertEqual(out[c], try AudioFileReader(path: scratch.file("one-out.wav")).readAll()[0], "channel \(c)")
        }
    }

    /// 8 and 384 kHz are resampled to the model's rate and back: same length
    /// out as in, and at 8 kHz, where the compressor's work is audible, the
    /// level comes down as at the model's own rate.
    func testEightAndThreeHundredEightyFourKilohertz() throws {
        for rate in [8000, 384_000] {
            let x = testSignal(channel: 0, sampleRate: Double(rate), frames: rate / 2)
            try writeAudio(scratch.file("in-\(rate).wav"), [x], sampleRate: rate)
            let result = try run([scratch.file("in-\(rate).wav"), scratch.file("out-\(rate).wav"), "--model", "la2a", "--knob", "peak=0.8"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("resampled to 44100 Hz for the model and back"), result.stdout)
            let reader = try AudioFileReader(path: scratch.file("out-\(rate).wav"))
            XCTAssertEqual(reader.sampleRate, rate)
            let y = try reader.readAll()[0]
            XCTAssertEqual(y.count, x.count)
            XCTAssertTrue(y.allSatisfy(\.isFinite))
            XCTAssertLessThan(y.map(abs).max()!, x.map(abs).max()!, "\(rate) Hz: the compressor took nothing off")
        }
    }

    /// A 2 GB model file is refused from its size alone, before its body is
    /// read (the file is sparse: reading it would take seconds and 2 GB).
    func testATwoGigabyteModelFileIsRefusedBeforeItsBodyIsRead() throws {
        let path = scratch.file("huge.safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([0x00, 0xff, 0xff, 0x7f, 0, 0, 0, 0]) + Data("{\"a\":".utf8)))
        XCTAssertEqual(truncate(path, 2 << 30), 0)
        let start = Date()
        let result = try run(["--model", path, "--info"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("larger than any model this reads"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}
