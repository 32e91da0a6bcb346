import Foundation
import NeuralFXAudio
import XCTest

/// The build products beside this test binary (.build/<config>/): the
/// commands, libnfx_allocation_counter.so, and the bundle `make build` puts
/// in lv2/neuralfx.lv2 (LV2_PATH points the hosts at lv2/).
enum Built {
    static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        return dir.path
    }()
    static var lv2Path: String { directory + "/lv2" }
    static var bundle: String { lv2Path + "/neuralfx.lv2" }
    static var fxrender: String { directory + "/fxrender" }
    static var allocationCounter: String { directory + "/libnfx_allocation_counter.so" }

    /// Fails the test, naming the command that builds what is missing.
    static func requireBundle() throws {
        guard FileManager.default.fileExists(atPath: bundle + "/neuralfx.so") else { throw MissingBundle(path: bundle) }
    }
}

struct MissingBundle: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is missing: `make build` (or `make test`) builds the bundle these tests run" }
}

enum URI {
    static let compressor = "http://neuralfx.dev/lv2/compressor"
    static let compressorStereo = "http://neuralfx.dev/lv2/compressor-stereo"
    static let overdrive = "http://neuralfx.dev/lv2/overdrive"
    static let overdriveStereo = "http://neuralfx.dev/lv2/overdrive-stereo"
    static let cl1b = "http://neuralfx.dev/lv2/cl1b"
    static let cl1bStereo = "http://neuralfx.dev/lv2/cl1b-stereo"
    static let model = "http://neuralfx.dev/lv2/model"
    static let modelStereo = "http://neuralfx.dev/lv2/model-stereo"
    static let all = [cl1b, cl1bStereo, compressor, compressorStereo, model, modelStereo, overdrive, overdriveStereo]
}

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a command to its end (killed after `timeout` seconds), with the
/// hosts pointed at the built bundle only.
func runTool(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
         timeout: Double = 60) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/" + executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["LV2_PATH"] = Built.lv2Path
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    let deadline = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
    // Read both pipes before waiting so a chatty process cannot stall on a full one.
    final class Box: @unchecked Sendable { var data = Data() }
    let stderrData = Box()
    let stderrDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { stderrData.data = err.fileHandleForReading.readDataToEndOfFile(); stderrDone.signal() }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    stderrDone.wait()
    process.waitUntilExit()
    deadline.cancel()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                     stderr: String(decoding: stderrData.data, as: UTF8.self))
}

/// A fresh directory, removed when the test ends.
final class Scratch {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "nfx-plugin-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Music-like test signal per channel, loud enough to drive the models.
func testSignal(channel: Int, sampleRate: Double, frames: Int) -> [Float] {
    (0..<frames).map { i in
        let t = Double(i) / sampleRate
        let envelope = 0.55 + 0.45 * sin(2 * .pi * 2 * t + Double(channel))
        return Float(envelope * (0.5 * sin(2 * .pi * (180 + 70 * Double(channel)) * t) + 0.2 * sin(2 * .pi * 3100 * t)))
    }
}

func writeAudio(_ path: String, _ channels: [[Float]], sampleRate: Int) throws {
    let writer = try AudioFileWriter(path: path, sampleRate: sampleRate, channels: channels.count, sampleFormat: .float)
    var interleaved = [Float](repeating: 0, count: channels[0].count * channels.count)
    for i in 0..<channels[0].count { for c in channels.indices { interleaved[i * channels.count + c] = channels[c][i] } }
    try interleaved.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: channels[0].count) }
    try writer.finish()
}

func readAudio(_ path: String) throws -> [[Float]] { try AudioFileReader(path: path).readAll() }

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths \(a.count) and \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The repository's test fixtures (NAM captures).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NeuralFXModelFilesTests/Fixtures").path
let modelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("models").path
