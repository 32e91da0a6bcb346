import Foundation
import NeuralFXHost
import Synchronization

/// A command that runs while the test talks to it on stdin; killed when the
/// test lets go of it, whatever happened.
final class Interactive {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LV2_PATH"] = Built.lv2Path
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.lock(); self?.stdoutData.append(d); self?.lock.unlock()
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.lock(); self?.stderrData.append(d); self?.lock.unlock()
        }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    func send(_ line: String) { try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }

    /// Closes stdin and waits up to `seconds` for the exit; nil if it had to be killed.
    func finish(within seconds: Double) -> Int32? {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
        process.waitUntilExit()
        usleep(50_000)  // the last output still in the pipes
        return process.terminationStatus
    }

    var standardOutput: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stdoutData, as: UTF8.self) }
    var standardError: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stderrData, as: UTF8.self) }
}

/// `jackd -d dummy` under a name of its own, stopped when released.
final class DummyJack {
    let name: String
    private let server: Interactive

    /// jackd now and then exits at start-up while the previous test's server
    /// still releases its shared-memory registry: a server that exits is
    /// started again under a new name.
    init(sampleRate: Int, period: Int) throws {
        _ = Self.registrySettled
        var logs: [String] = []
        for _ in 0..<3 {
            let name = "nfxlv2-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let server = try Interactive("/usr/bin/jackd", ["-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"],
                                         environment: ["JACK_NO_AUDIO_RESERVATION": "1"])
            let waited = try runTool("/usr/bin/jack_wait", ["-s", name, "-w", "-t", "10"], timeout: 15)
            if waited.status == 0 && server.process.isRunning {
                self.name = name
                self.server = server
                return
            }
            logs.append("jackd -n \(name): \(server.standardError) \(waited.stdout) \(waited.stderr)")
            if server.process.isRunning { break }
            usleep(500_000)
        }
        throw SetupFailure("jackd -d dummy did not come up: " + logs.joined(separator: "; "))
    }

    /// Servers that died without shutting down leave stale slots in JACK's
    /// shared-memory registry until new servers refuse to start; with no
    /// jackd alive it is removed, once per process, before any client here
    /// maps it. The test targets share the process with FXHostTests, which
    /// does the same: an environment variable tells whichever comes second
    /// to leave the registry alone (libjack keeps the one it first mapped).
    static let registrySettled: Void = {
        let variable = "NEURALFX_TEST_JACK_REGISTRY_SETTLED"
        guard getenv(variable) == nil else { return }
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let jackdAlive = pids.contains { pid in
            guard pid.allSatisfy(\.isNumber),
                  let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "jackd"
        }
        if !jackdAlive {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
                where entry.hasPrefix("jack-") || entry.hasPrefix("jack_sem.") || entry.hasPrefix("jack_db") || entry.hasPrefix("jack_nfx") {
                try? FileManager.default.removeItem(atPath: "/dev/shm/" + entry)
            }
        }
        setenv(variable, "1", 1)
    }()

    deinit {
        if server.process.isRunning {
            server.process.interrupt()
            _ = server.finish(within: 5)
        }
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A bundle of presets for the loader, each naming a model file through the
/// file parameter's property, as a host's saved state does.
struct PresetBundle {
    let directory: String

    init(in scratch: Scratch, files: [(name: String, path: String)]) throws {
        directory = scratch.file("presets")
        let bundle = directory + "/nfxtest.lv2"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        var ttl = """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix pset: <http://lv2plug.in/ns/ext/presets#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix state: <http://lv2plug.in/ns/ext/state#> .


        """
        for (name, path) in files {
            let uri = URL(fileURLWithPath: path).absoluteString
            ttl += "<urn:nfxtest:\(name)> a pset:Preset ; lv2:appliesTo <\(URI.model)> ; rdfs:label \"\(name)\" ;\n"
            ttl += "    state:state [ <http://neuralfx.dev/lv2/model#file> <\(uri)> ] .\n"
        }
        try ttl.write(toFile: bundle + "/manifest.ttl", atomically: true, encoding: .utf8)
    }

    static func uri(_ name: String) -> String { "urn:nfxtest:\(name)" }
}

/// What the plugin's allocation probe wrote at cleanup: one line per instance.
struct AllocationReport {
    var calibration = 0, calls = 0, allocations = 0, switches = 0

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=")
            guard parts.count == 2, let v = Int(parts[1]) else { continue }
            switch parts[0] {
            case "calibration": calibration += v
            case "calls": calls += v
            case "allocations": allocations += v
            case "switches": switches += v
            default: break
            }
        }
    }
}

/// A JACK client that plays a signal into a plugin host and records what
/// comes back, cycle by cycle, in freewheel mode so machine load cannot drop
/// a cycle.
final class JackPlayer: JackClientDelegate {
    let client: JackClient
    let playPort: JackPort
    let recordPort: JackPort
    private let signal: UnsafeMutablePointer<Float>
    private let recording: UnsafeMutablePointer<Float>
    private let length: Int
    private let capacity: Int
    private let armed = Atomic<Bool>(false)
    private let freewheeling = Atomic<Bool>(false)
    private let recorded = Atomic<Int>(0)
    private var position = 0
    private var freewheelCycles = 0

    init(server: String, signal input: [Float], extra: Int) throws {
        client = try JackClient(name: "player", server: server)
        playPort = try client.registerPort("play", midi: false, input: false)
        recordPort = try client.registerPort("rec", midi: false, input: true)
        length = input.count
        capacity = input.count + extra
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: input.count)
        input.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: $0.count) }
        signal = copy
        recording = .allocate(capacity: capacity)
        recording.initialize(repeating: 0, count: capacity)
        client.setDelegate(self)
        try client.activate()
    }

    deinit {
        client.close()
        signal.deallocate()
        recording.deallocate()
    }

    /// Plays the signal (then silence) in freewheel mode and returns the recording.
    func playAndRecord(timeout: Double) throws -> [Float] {
        try client.setFreewheel(true)
        armed.store(true, ordering: .releasing)
        let deadline = Date().addingTimeInterval(timeout)
        while recorded.load(ordering: .acquiring) < capacity && Date() < deadline { usleep(10_000) }
        try client.setFreewheel(false)
        return Array(UnsafeBufferPointer(start: recording, count: recorded.load(ordering: .acquiring)))
    }

    func jackProcess(frames: Int) {
        let out = playPort.audioBuffer(frames: frames)
        let input = recordPort.audioBuffer(frames: frames)
        if freewheeling.load(ordering: .acquiring) { freewheelCycles += 1 }
        // The switch to freewheel is announced before the last real-time cycles are done.
        guard armed.load(ordering: .acquiring), freewheelCycles >= 32, position < capacity else {
            out.update(repeating: 0, count: frames)
            return
        }
        for i in 0..<frames { out[i] = position + i < length ? signal[position + i] : 0 }
        let n = min(frames, capacity - position)
        (recording + position).update(from: input, count: n)
        position += n
        recorded.store(position, ordering: .releasing)
    }

    func jackBufferSizeChanged(frames: Int) {}
    func jackSampleRateChanged(rate: Int) {}
    func jackXrun() {}
    func jackLatency(capture: Bool) {}
    func jackShutdown(reason: String) {}
    func jackFreewheel(on: Bool) { freewheeling.store(on, ordering: .releasing) }
}
