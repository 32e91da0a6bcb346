import Foundation
import NeuralFXAudio
import XCTest

/// What one run of the built `fxrender` did.
struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String

    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// The `fxrender` built beside this test bundle (.build/<config>/).
func fxrenderPath() throws -> String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
    // On Linux the bundle is the test executable itself; elsewhere a directory bundle.
    while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS" || directory.lastPathComponent == "Contents" {
        directory = directory.deletingLastPathComponent()
    }
    let path = directory.appendingPathComponent("fxrender").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw MissingBinary(path: path)
    }
    return path
}

struct MissingBinary: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is missing: fxrender is a dependency of this test target, build the package first" }
}

/// Runs fxrender with a search path confined to `home` (no user or system models leak in).
func runFXRender(_ arguments: [String], home: String, currentDirectory: String? = nil) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try fxrenderPath())
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = home
    environment["XDG_DATA_HOME"] = home + "/data"
    environment["NEURALFX_PATH"] = home + "/neuralfx"
    process.environment = environment
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read before waiting so a chatty process cannot fill a pipe and stall.
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                     stderr: String(decoding: stderrData, as: UTF8.self))
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "nfx-fxrender-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Every file below the directory (hidden ones included), relative paths.
    var allFiles: [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).sorted()
    }
}

/// Deterministic test music per channel, below full scale.
func testSignal(channel: Int, sampleRate: Double, frames: Int) -> [Float] {
    (0..<frames).map { i in
        let t = Double(i) / sampleRate
        let envelope = 0.55 + 0.45 * sin(2 * .pi * 2 * t + Double(channel))
        return Float(envelope * (0.5 * sin(2 * .pi * (180 + 70 * Double(channel)) * t) + 0.2 * sin(2 * .pi * 3100 * t)))
    }
}

func writeAudio(_ path: String, _ channels: [[Float]], sampleRate: Int, sampleFormat: AudioSampleFormat = .float) throws {
    let writer = try AudioFileWriter(path: path, sampleRate: sampleRate, channels: channels.count, sampleFormat: sampleFormat)
    var interleaved = [Float](repeating: 0, count: channels[0].count * channels.count)
    for i in 0..<channels[0].count { for c in channels.indices { interleaved[i * channels.count + c] = channels[c][i] } }
    try interleaved.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: channels[0].count) }
    try writer.finish()
}

/// Asserts a failed run: non-zero exit, exactly one line on stderr naming
/// the cause, nothing on stdout, and the directory left as it was.
func assertFails(_ result: RunResult, mentioning fragments: [String], filesBefore: [String], scratch: ScratchDirectory,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(result.status, 0, "exit status", file: file, line: line)
    XCTAssertEqual(result.stderrLines.count, 1, "stderr: \(result.stderr)", file: file, line: line)
    XCTAssertTrue(result.stderr.hasPrefix("fxrender: error: "), result.stderr, file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.stderr.contains(fragment), "'\(fragment)' not in: \(result.stderr)", file: file, line: line)
    }
    XCTAssertEqual(result.stdout, "", file: file, line: line)
    XCTAssertEqual(scratch.allFiles, filesBefore, "files left behind", file: file, line: line)
}
