import Foundation
import XCTest
import NeuralFXHost

/// The fxhost binary built next to this test bundle.
let fxhostPath: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the test runner sits in `<build>/<config>/X.xctest` (a file);
    // fxhost is its sibling.
    if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    return dir.appendingPathComponent("fxhost").path
}()

/// A child process with a deadline: it is killed when the deadline passes or
/// the test ends, whatever happens in between.
final class ChildProcess {
    let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let outputLock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.outputLock.lock(); self?.stdoutData.append(d); self?.outputLock.unlock()
        }
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.outputLock.lock(); self?.stderrData.append(d); self?.outputLock.unlock()
        }
        try process.run()
    }

    deinit { kill() }

    var pid: Int32 { process.processIdentifier }

    func send(_ line: String) {
        try? stdinPipe.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    func closeInput() { try? stdinPipe.fileHandleForWriting.close() }

    var standardOutput: String { outputLock.lock(); defer { outputLock.unlock() }; return String(decoding: stdoutData, as: UTF8.self) }
    var standardError: String { outputLock.lock(); defer { outputLock.unlock() }; return String(decoding: stderrData, as: UTF8.self) }

    /// Waits until `condition` holds on the output so far, or `seconds` pass.
    func waitForOutput(_ seconds: Double, until condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(standardOutput) { return true }
            if !process.isRunning { return condition(standardOutput) }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the process to exit; kills it and returns nil after `seconds`.
    @discardableResult
    func wait(_ seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(); return nil }
        // Let the pipe handlers drain what the process wrote last.
        usleep(50_000)
        return process.terminationStatus
    }

    func signal(_ sig: Int32) { if process.isRunning { Glibc.kill(pid, sig) } }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}

/// A private `jackd -d dummy` server under a unique name, so tests never
/// touch a user's server. Stopped by `stop()` and, failing that, on deinit.
final class DummyJackServer {
    let name: String
    let sampleRate: Int
    let period: Int
    private let child: ChildProcess

    init(period: Int = 64, sampleRate: Int = 44100) throws {
        name = "nfxtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        self.sampleRate = sampleRate
        self.period = period
        child = try ChildProcess("/usr/bin/jackd", ["-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"],
                                 environment: ["JACK_NO_AUDIO_RESERVATION": "1"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let probe = try? JackClient(name: "probe", server: name) { probe.close(); return }
            if !child.process.isRunning { break }
            usleep(50_000)
        }
        let log = child.standardError + child.standardOutput
        child.kill()
        throw SetupError("jackd -n \(name) -d dummy did not come up within 10 s: \(log)")
    }

    var isRunning: Bool { child.process.isRunning }

    func stop() {
        child.signal(SIGTERM)
        if child.wait(5) == nil { child.kill() }
    }

    deinit { stop() }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
