import Foundation
import NeuralFXAudio
import XCTest

/// fxrender refuses bad input with one line and a non-zero exit, and leaves
/// no output behind. (Errors found before any model is loaded.)
final class FXRenderErrorTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws {
        scratch = try ScratchDirectory()
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 4410)], sampleRate: 44100)
    }

    override func tearDown() { scratch.remove() }

    func run(_ arguments: [String]) throws -> RunResult { try runFXRender(arguments, home: scratch.path) }

    func testMissingInput() throws {
        let before = scratch.allFiles
        assertFails(try run([scratch.file("missing.wav"), scratch.file("out.wav")]),
                    mentioning: ["missing.wav", "no such file"], filesBefore: before, scratch: scratch)
    }

    func testCorruptInput() throws {
        FileManager.default.createFile(atPath: scratch.file("corrupt.flac"), contents: Data((0..<3000).map { UInt8($0 * 7 % 251) }))
        let before = scratch.allFiles
        assertFails(try run([scratch.file("corrupt.flac"), scratch.file("out.wav")]),
                    mentioning: ["cannot read", "corrupt.flac"], filesBefore: before, scratch: scratch)
    }

    func testEmptyInput() throws {
        try AudioFileWriter(path: scratch.file("empty.wav"), sampleRate: 44100, channels: 2, sampleFormat: .pcm16).finish()
        let before = scratch.allFiles
        assertFails(try run([scratch.file("empty.wav"), scratch.file("out.wav")]),
                    mentioning: ["empty.wav", "contains no audio"], filesBefore: before, scratch: scratch)
    }

    func testUnsupportedOutputFormat() throws {
        let before = scratch.allFiles
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.xyz")]),
                    mentioning: ["out.xyz", "cannot tell the output format", ".flac"], filesBefore: before, scratch: scratch)
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.flac"), "--subtype", "float"]),
                    mentioning: ["FLAC cannot store float"], filesBefore: before, scratch: scratch)
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--subtype", "pcm12"]),
                    mentioning: ["unknown subtype 'pcm12'", "pcm24"], filesBefore: before, scratch: scratch)
    }

    func testExistingOutputIsKept() throws {
        FileManager.default.createFile(atPath: scratch.file("out.wav"), contents: Data("precious".utf8))
        let before = scratch.allFiles
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav")]),
                    mentioning: ["out.wav", "already exists", "--force"], filesBefore: before, scratch: scratch)
        XCTAssertEqual(try String(contentsOfFile: scratch.file("out.wav"), encoding: .utf8), "precious")
    }

    func testOutputIsInput() throws {
        try FileManager.default.createSymbolicLink(atPath: scratch.file("alias.wav"), withDestinationPath: scratch.file("in.wav"))
        let original = try Data(contentsOf: URL(fileURLWithPath: scratch.file("in.wav")))
        let before = scratch.allFiles
        for output in ["in.wav", "./in.wav", "alias.wav"] {
            assertFails(try runFXRender(["in.wav", output, "--force"], home: scratch.path, currentDirectory: scratch.path),
                        mentioning: ["is the input file"], filesBefore: before, scratch: scratch)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch.file("in.wav"))), original)
    }

    func testUnknownModelAndPreset() throws {
        let before = scratch.allFiles
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--model", "no-such-model"]),
                    mentioning: ["no model named 'no-such-model'", "available"], filesBefore: before, scratch: scratch)
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--preset", "no-such-preset"]),
                    mentioning: ["no preset named 'no-such-preset'"], filesBefore: before, scratch: scratch)
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--model", scratch.file("gone.safetensors")]),
                    mentioning: ["gone.safetensors", "does not exist"], filesBefore: before, scratch: scratch)
    }

    func testUsageErrors() throws {
        let before = scratch.allFiles
        assertFails(try run([]), mentioning: ["give an input and an output"], filesBefore: before, scratch: scratch)
        assertFails(try run([scratch.file("in.wav"), scratch.file("out.wav"), "--volume", "11"]),
                    mentioning: ["--volume"], filesBefore: before, scratch: scratch)
    }
}
