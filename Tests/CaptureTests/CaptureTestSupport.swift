import Foundation
import NeuralFXCapture
import NeuralFXDevices
import NeuralFXHost
import Synchronization
import XCTest

/// The fxtrain built beside this test bundle.
let fxtrainPath: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    return dir.appendingPathComponent("fxtrain").path
}()

/// fxtrain (or any tool) as a child: output collected as it comes, input
/// written on request, killed at the end of the test whatever happens.
final class Tool {
    let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private let lock = NSLock()
    private var out = Data(), err = Data()

    init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        // Writing to a tool that has exited must fail, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.lock(); self?.out.append(d); self?.lock.unlock()
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.lock(); self?.err.append(d); self?.lock.unlock()
        }
        try process.run()
    }

    deinit { kill() }

    var standardOutput: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var standardError: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
    var transcript: String { standardOutput + "\n--- stderr:\n" + standardError }

    func send(_ line: String) { try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8)) }

    /// Waits for the `count`th `text` in the output; false after `seconds` or when the tool ended without it.
    func waitFor(_ text: String, count: Int = 1, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        let seen = { self.standardOutput.components(separatedBy: text).count - 1 >= count }
        while Date() < deadline {
            if seen() { return true }
            if !process.isRunning { usleep(100_000); return seen() }
            usleep(20_000)
        }
        return false
    }

    /// The exit status, or nil (and the tool killed) after `seconds`.
    func wait(_ seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(); return nil }
        usleep(100_000)
        return process.terminationStatus
    }

    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
    }
}

/// `jackd -d dummy` under a name of its own, stopped at the end.
final class JackServer {
    let name: String
    private let tool: Tool

    init(period: Int = 256, rate: Int = 44100) throws {
        _ = Self.registrySettled
        var last = ""
        for _ in 0..<3 {
            let name = "nfxcapture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let tool = try Tool("/usr/bin/jackd", ["-n", name, "-d", "dummy", "-r", "\(rate)", "-p", "\(period)"],
                                environment: ["JACK_NO_AUDIO_RESERVATION": "1"])
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && tool.process.isRunning {
                if let probe = try? JackClient(name: "probe", server: name) {
                    probe.close()
                    self.name = name
                    self.tool = tool
                    return
                }
                usleep(50_000)
            }
            last = tool.transcript
            tool.kill()
            usleep(500_000)
        }
        throw CaptureError("jackd -d dummy did not start: \(last)")
    }

    /// A server killed earlier leaves its registry in /dev/shm, and enough
    /// of those stop new servers; with no jackd alive it is removed, once per
    /// test process, before the first client (the other JACK test targets
    /// share the process and the same environment flag).
    static let registrySettled: Void = {
        let flag = "NEURALFX_TEST_JACK_REGISTRY_SETTLED"
        guard getenv(flag) == nil else { return }
        let fm = FileManager.default
        let alive = ((try? fm.contentsOfDirectory(atPath: "/proc")) ?? []).contains { pid in
            pid.allSatisfy(\.isNumber)
                && (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "jackd"
        }
        if !alive {
            for entry in (try? fm.contentsOfDirectory(atPath: "/dev/shm")) ?? []
                where entry.hasPrefix("jack-") || entry.hasPrefix("jack_sem.") || entry.hasPrefix("jack_db") {
                try? fm.removeItem(atPath: "/dev/shm/" + entry)
            }
        }
        setenv(flag, "1", 1)
    }()

    func stop() {
        guard tool.process.isRunning else { return }
        kill(tool.process.processIdentifier, SIGTERM)
        if tool.wait(5) == nil { tool.kill() }
    }

    deinit { stop() }
}

/// The gear: the la2a simulation as a JACK client, fxhost-style, with an
/// extra delay and a polarity of its own. It reads the session's plan file
/// and sets itself to the setting fxtrain's plan command names (a fresh
/// unit each time: a reset, as after a long rest). Per setting it can be
/// given another delay or gain, to play a route that changes or a return
/// that clips or carries silence.
///
/// For the settings in `freewheel` it puts the server in freewheel mode
/// from the moment the setting is chosen until `framesPerSetting` frames
/// after the signal arrived, so a 20 s setting takes a fraction of that,
/// with no deadline to miss on a loaded machine. (JACK refuses new clients
/// while freewheeling, so it is on only while fxtrain's clients are active.)
final class GearStandIn: JackClientDelegate, @unchecked Sendable {
    let client: JackClient
    let input: JackPort
    let output: JackPort
    let device = OpticalCompressor(sampleRate: 44100)
    let plan: KnobPlan
    let delays: [Int]
    let gains: [Float]
    let polarity: Float
    static let ring = 8192, maxFrames = 4096
    private let line = UnsafeMutablePointer<Float>.allocate(capacity: ring)
    private let scratch = UnsafeMutablePointer<Float>.allocate(capacity: maxFrames)
    private var write = 0
    private var active = -1
    let requested = Atomic<Int>(-1)
    /// The loudest sample the gear was sent, as a Float's bits (non-negative floats order as their bits).
    private let inputPeakBits = Atomic<UInt32>(0)
    var inputPeak: Float { Float(bitPattern: inputPeakBits.load(ordering: .acquiring)) }
    /// Frames since the current setting's signal arrived (-1: not yet).
    private let sinceSignal = Atomic<Int>(-1)
    private var counting = -1
    private let watching = Atomic<Bool>(true)
    private var watcher: Thread?

    var inName: String { "\(client.name):in" }
    var outName: String { "\(client.name):out" }

    /// `settingFile`: where the plan's command writes the setting number.
    init(server: String, plan: KnobPlan, settingFile: String, delays: [Int], gains: [Float]? = nil, inverted: Bool = true,
         freewheel: Set<Int> = [], framesPerSetting: Int = 0) throws {
        client = try JackClient(name: "gear", server: server)
        input = try client.registerPort("in", midi: false, input: true)
        output = try client.registerPort("out", midi: false, input: false)
        self.plan = plan
        self.delays = delays
        self.gains = gains ?? [Float](repeating: 1, count: plan.settings.count)
        polarity = inverted ? -1 : 1
        line.initialize(repeating: 0, count: Self.ring)
        scratch.initialize(repeating: 0, count: Self.maxFrames)
        client.setDelegate(self)
        try client.activate()
        let thread = Thread { [weak self] in
            // What the file says already is an earlier session's; only changes count.
            var last = (try? String(contentsOfFile: settingFile, encoding: .utf8)) ?? ""
            var freewheelSince: Date?
            while let me = self, me.watching.load(ordering: .acquiring) {
                if let text = try? String(contentsOfFile: settingFile, encoding: .utf8), text != last, let n = Int(text) {
                    last = text
                    me.sinceSignal.store(-1, ordering: .releasing)
                    me.requested.store(n - 1, ordering: .releasing)
                    if freewheel.contains(n - 1) {
                        try? me.client.setFreewheel(true)
                        freewheelSince = Date()
                    }
                }
                if let since = freewheelSince,
                   me.sinceSignal.load(ordering: .acquiring) >= framesPerSetting || Date().timeIntervalSince(since) > 30 {
                    try? me.client.setFreewheel(false)
                    freewheelSince = nil
                }
                usleep(2_000)
            }
        }
        watcher = thread
        thread.start()
    }

    private var closed = false

    func close() {
        guard !closed else { return }
        closed = true
        watching.store(false, ordering: .releasing)
        try? client.setFreewheel(false)
        client.close()
    }

    deinit {
        close()
        usleep(10_000)
        line.deallocate()
        scratch.deallocate()
    }

    func jackProcess(frames: Int) {
        let x = input.audioBuffer(frames: frames), y = output.audioBuffer(frames: frames)
        let wanted = requested.load(ordering: .acquiring)
        if wanted != active && wanted >= 0 && wanted < plan.settings.count {
            for (knob, value) in zip(plan.knobs, plan.settings[wanted]) { device.setKnob(named: knob.name, to: value) }
            device.reset()
            line.update(repeating: 0, count: Self.ring)
            active = wanted
            counting = -1
        }
        if counting < 0 {
            for i in 0..<frames where x[i] != 0 { counting = 0; break }
        }
        var peak: Float = 0
        for i in 0..<frames { peak = max(peak, abs(x[i])) }
        if peak.bitPattern > inputPeakBits.load(ordering: .relaxed) { inputPeakBits.store(peak.bitPattern, ordering: .releasing) }
        if counting >= 0 {
            counting += frames
            sinceSignal.store(counting, ordering: .releasing)
        }
        let delay = active >= 0 ? delays[active] : delays[0]
        let gain = polarity * (active >= 0 ? gains[active] : 1)
        device.process(x, scratch, frameCount: frames)
        for i in 0..<frames {
            line[write] = scratch[i]
            y[i] = gain * line[(write - delay + Self.ring) % Self.ring]
            write = (write + 1) % Self.ring
        }
    }

    func jackBufferSizeChanged(frames: Int) {}
    func jackSampleRateChanged(rate: Int) {}
    func jackXrun() {}
    func jackLatency(capture: Bool) {}
    func jackShutdown(reason: String) {}
}

/// The manifest fxtrain capture wrote, as JSON.
func manifest(_ dir: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// Each kept setting's calibration, in setting order.
func calibrations(_ dir: String) throws -> [[String: Any]] {
    let capture = try XCTUnwrap(try manifest(dir)["capture"] as? [String: Any])
    let settings = try XCTUnwrap(capture["settings"] as? [[String: Any]])
    return try settings.map { try XCTUnwrap($0["calibration"] as? [String: Any]) }
}

/// Every pair of the dataset against the la2a's own render of its input at
/// its knob values: the largest difference over all pairs.
func largestDifferenceFromTheDevice(_ dir: String) throws -> (error: Float, pairs: Int) {
    let pairs = try XCTUnwrap(try manifest(dir)["pairs"] as? [[String: Any]])
    var worst: Float = 0
    for pair in pairs {
        let input = try readMono(dir + "/" + (pair["input"] as! String))
        let target = try readMono(dir + "/" + (pair["target"] as! String))
        let expected = deviceRender(input, knobs: pair["knobs"] as! [String: Double])
        XCTAssertEqual(target.count, expected.count)
        for i in 0..<min(target.count, expected.count) { worst = max(worst, abs(target[i] - expected[i])) }
    }
    return (worst, pairs.count)
}

/// A plan of the la2a's two knobs whose command tells the stand-in the setting.
func writePlan(_ dir: String, settings: [(peak: Double, mode: String)]) throws -> (path: String, settingFile: String, plan: KnobPlan) {
    let settingFile = dir + "/current-setting"
    let list = settings.map { #"{ "peak": \#($0.peak), "mode": "\#($0.mode)" }"# }.joined(separator: ", ")
    let peaks = Array(Set(settings.map(\.peak))).sorted().map { "\($0)" }.joined(separator: ", ")
    let text = """
    { "knobs": [ { "name": "peak", "label": "Peak Reduction", "values": [\(peaks)] },
                 { "name": "mode", "label": "Mode", "positions": ["compress", "limit"] } ],
      "settings": [ \(list) ],
      "command": "printf %s \\"$NFX_SETTING\\" > '\(settingFile)'",
      "settle_seconds": 0.3 }
    """
    let path = dir + "/plan.json"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return (path, settingFile, try KnobPlan.load(path: path))
}

/// The JSON summary `--stats` prints (the output's last line starting with `{`).
func statistics(_ output: String) throws -> [String: Any] {
    let line = try XCTUnwrap(output.split(separator: "\n").last { $0.hasPrefix("{") }, output)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
}
