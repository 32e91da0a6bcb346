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
        // Bounded: a test must never hang on a child, whatever state it is in.
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
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
        self.sampleRate = sampleRate
        self.period = period
        // jackd now and then exits at start-up while the previous test's
        // server is still releasing its shared-memory registry; a server that
        // exits (rather than hangs) is started again under a new name.
        var logs: [String] = []
        _ = Self.staleRegistryCleared
        for _ in 0..<3 {
            let name = "nfxtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let child = try ChildProcess("/usr/bin/jackd", ["-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"],
                                         environment: ["JACK_NO_AUDIO_RESERVATION": "1"])
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if let probe = try? JackClient(name: "probe", server: name) {
                    probe.close()
                    self.name = name
                    self.child = child
                    return
                }
                if !child.process.isRunning { break }
                usleep(50_000)
            }
            let exitedEarly = !child.process.isRunning
            logs.append("jackd -n \(name): " + (child.standardError + child.standardOutput)
                .split(whereSeparator: \.isNewline).joined(separator: " | "))
            child.kill()
            if !exitedEarly { break }
            usleep(500_000)
        }
        throw SetupError("jackd -d dummy did not come up: \(logs.joined(separator: "; "))")
    }

    var isRunning: Bool { child.process.isRunning }

    /// Deadlines missed so far, as the server logs them, by cause: the
    /// dummy driver's own late wake-ups (the VM's timer), the cycles in which
    /// `client` had not even been started (its thread, or the client before
    /// it, was not scheduled in time: the VM again), and the cycles it had
    /// started but not finished (it overran: its own doing).
    func missedDeadlines(of client: String) -> (lateWakeUps: Int, notStarted: Int, overran: Int) {
        let lines = (child.standardError + child.standardOutput).split(whereSeparator: \.isNewline)
        let unfinished = lines.filter { $0.contains("client = \(client) was not finished") }
        return (lines.filter { $0.contains("JackTimedDriver::Process XRun") }.count,
                unfinished.filter { $0.hasSuffix("state = Triggered") }.count,
                unfinished.filter { !$0.hasSuffix("state = Triggered") }.count)
    }

    /// A JACK server that dies without shutting down (SIGKILL, a crash) keeps
    /// its slot in the shared-memory registry, and after a handful of those
    /// every new server fails with "Too many servers already active". When no
    /// jackd process is alive at all, nothing can be using that memory, so it
    /// is removed: once, before this process opens its first JACK client
    /// (libjack keeps the registry it first mapped). All test targets run in
    /// one process, and PluginTests opens JACK clients too: whichever comes
    /// first clears, and marks the process so the other does not remove the
    /// registry its clients already use.
    static let staleRegistryCleared: Void = {
        guard getenv(registrySettledVariable) == nil else { return }
        clearStaleJackRegistry()
        setenv(registrySettledVariable, "1", 1)
    }()
    static let registrySettledVariable = "NEURALFX_TEST_JACK_REGISTRY_SETTLED"

    static func clearStaleJackRegistry() {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let jackdAlive = pids.contains { pid in
            guard pid.allSatisfy(\.isNumber),
                  let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "jackd"
        }
        guard !jackdAlive else { return }
        let shm = "/dev/shm"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: shm)) ?? []
            where entry.hasPrefix("jack-") || entry.hasPrefix("jack_sem.") || entry.hasPrefix("jack_db") || entry.hasPrefix("jack_nfxtest") {
            try? FileManager.default.removeItem(atPath: "\(shm)/\(entry)")
        }
    }

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

/// Runs a short-lived tool with stdout and stderr in a temporary file and a
/// deadline, reaping it with waitpid. Returns status nil if it was killed.
func runWithDeadline(_ path: String, _ arguments: [String], seconds: Double) throws -> (status: Int32?, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-tool-\(UUID().uuidString)").path
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
    let deadline = Date().addingTimeInterval(seconds)
    var status: Int32 = 0
    var exited = false
    while Date() < deadline {
        if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
        usleep(10_000)
    }
    if !exited {
        Glibc.kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let code: Int32? = exited ? ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)) : nil
    return (code, output)
}
