import Foundation
import NeuralFXAudio
import XCTest

/// fxrender killed with SIGKILL mid-render leaves nothing under the final
/// name, and the next render of that output clears what the killed one left.
final class KilledRenderTests: XCTestCase {
    func testAKilledRenderLeavesNoOutputAndTheNextRunClearsItsTemporary() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // Long enough that the render is still running when killed.
        let seconds = 240
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: seconds * 44100)],
                       sampleRate: 44100)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try fxrenderPath())
        process.arguments = [scratch.file("in.wav"), scratch.file("out.wav"), "--model", "la2a"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func temporaries() -> [String] { scratch.allFiles.filter { $0.hasSuffix(".tmp") } }
        let deadline = Date().addingTimeInterval(30)
        while temporaries().isEmpty && process.isRunning && Date() < deadline { usleep(5_000) }
        usleep(100_000)
        XCTAssertTrue(process.isRunning, "the render ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("out.wav")), "a partial render under the final name")
        XCTAssertEqual(temporaries().count, 1, "\(scratch.allFiles)")

        try writeAudio(scratch.file("short.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 44100)], sampleRate: 44100)
        let again = try runFXRender([scratch.file("short.wav"), scratch.file("out.wav"), "--model", "la2a"], home: scratch.path)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(temporaries(), [], "left behind: \(scratch.allFiles)")
        XCTAssertEqual(try AudioFileReader(path: scratch.file("out.wav")).readAll()[0].count, 44100)
    }
}
