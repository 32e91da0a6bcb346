import CAllocationCounter
import Foundation
import Synchronization

/// Plays and records through JACK with two clients: one sends, the other
/// records. One client with both ports would close a loop through the gear's
/// client (send -> gear -> return -> same client), and JACK breaks such a loop
/// with a period of delay on one connection; two clients keep the graph a
/// chain, so the measured latency is the gear's (plus the interface's, when
/// the route goes through hardware) and nothing of JACK's ordering. Both
/// clients index their samples by the server's frame time, which every client
/// of a cycle shares.
public final class JackPlayRecord: PlayRecordDevice {
    public let sampleRate: Int
    public let route: String
    let sendClient: JackClient
    let returnClient: JackClient
    let sendEngine: SendEngine
    let returnEngine: ReturnEngine
    let sendPortName: String
    let returnPortName: String
    let sendTarget: String
    let returnSource: String

    /// Connects to the server, registers `<name>-send:out` and
    /// `<name>-return:in`, and connects them to `send` and `return` (default:
    /// the first physical playback and capture ports). `capacity`: the
    /// longest signal and recording a run will use (buffers are made here).
    public init(server: String?, send: String?, return returnPort: String?, capacity: Int, name: String = "fxcapture") throws {
        sendClient = try JackClient(name: name + "-send", server: server)
        returnClient = try JackClient(name: name + "-return", server: server)
        sampleRate = sendClient.sampleRate
        let out = try sendClient.registerPort("out", midi: false, input: false)
        let input = try returnClient.registerPort("in", midi: false, input: true)
        sendPortName = out.name
        returnPortName = input.name
        guard let target = send ?? sendClient.physicalPorts(inputs: true).first else {
            throw HostError.jack("the JACK server has no playback port to send to; give --send PORT (jack_lsp lists the ports)")
        }
        guard let source = returnPort ?? sendClient.physicalPorts(inputs: false).first else {
            throw HostError.jack("the JACK server has no capture port to record from; give --return PORT (jack_lsp lists the ports)")
        }
        for (port, what, input) in [(target, "--send", true), (source, "--return", false)] {
            guard sendClient.portExists(port) else {
                let candidates = sendClient.ports(midi: false, inputs: input).filter { !$0.hasPrefix(name + "-") }
                throw HostError.jack("\(what): JACK has no port '\(port)' (\(input ? "inputs" : "outputs"): \(candidates.isEmpty ? "none" : candidates.joined(separator: ", ")))")
            }
        }
        sendTarget = target
        returnSource = source
        route = "jack: send \(target), return \(source)"
        sendEngine = SendEngine(client: sendClient, port: out, capacity: capacity)
        returnEngine = ReturnEngine(client: returnClient, port: input, capacity: capacity, send: sendEngine)
        sendClient.setDelegate(sendEngine)
        returnClient.setDelegate(returnEngine)
        try sendClient.activate()
        try returnClient.activate()
        try sendClient.connect(sendPortName, target)
        try returnClient.connect(source, returnPortName)
    }

    deinit {
        // Clients first: no callback may run once the buffers are gone.
        sendClient.close()
        returnClient.close()
    }

    /// JACK's own figure for the route: the playback latency of the port sent
    /// to plus the capture latency of the port recorded from (0 for ports of
    /// other clients, which report none).
    public var bufferLatency: Int? {
        guard let out = sendClient.latencyRange(ofPort: sendTarget, capture: false),
              let back = sendClient.latencyRange(ofPort: returnSource, capture: true) else { return nil }
        return out.upperBound + back.upperBound
    }

    public func close() {
        sendClient.close()
        returnClient.close()
    }

    public func playAndRecord(_ signal: [Float], recordFrames: Int, ceiling: Float, stop: StopSignal,
                              progress: (PlayRecordProgress) -> Void) throws -> PlayRecordResult? {
        guard signal.count <= sendEngine.capacity, recordFrames <= returnEngine.capacity else {
            throw HostError.badArgument("the signal is longer than the buffers made for it")
        }
        if let failure = sendEngine.failure.withLock({ $0 }) ?? returnEngine.failure.withLock({ $0 }) { throw HostError.jack(failure) }
        // Idle: neither callback touches the buffers until `armed` is raised.
        signal.withUnsafeBufferPointer { sendEngine.signal.update(from: $0.baseAddress!, count: signal.count) }
        sendEngine.count.store(signal.count, ordering: .relaxed)
        sendEngine.ceiling.store(ceiling.bitPattern, ordering: .relaxed)
        returnEngine.recording.update(repeating: 0, count: recordFrames)
        returnEngine.total.store(recordFrames, ordering: .relaxed)
        returnEngine.recorded.store(0, ordering: .relaxed)
        sendEngine.startFrame.store(-1, ordering: .relaxed)
        let xrunsBefore = sendEngine.xruns.load(ordering: .relaxed)
        let allocationsBefore = sendEngine.allocations.load(ordering: .relaxed) + returnEngine.allocations.load(ordering: .relaxed)
        _ = sendEngine.meter.take(); _ = returnEngine.meter.take()
        sendEngine.armed.store(true, ordering: .releasing)
        defer { disarm() }

        var lastDone = 0, lastMove = Date()
        while true {
            usleep(50_000)
            let done = returnEngine.recorded.load(ordering: .acquiring)
            progress(PlayRecordProgress(done: done, total: recordFrames, sendPeak: sendEngine.meter.take(), returnPeak: returnEngine.meter.take()))
            if done >= recordFrames { break }
            if stop.isRaised { return nil }
            if let failure = sendEngine.failure.withLock({ $0 }) ?? returnEngine.failure.withLock({ $0 }) {
                throw HostError.jack(failure)
            }
            // The gear's client leaving takes its ports and our connections with it.
            if sendClient.connections(ofPort: sendPortName).isEmpty {
                throw HostError.jack("the connection from \(sendPortName) to \(sendTarget) went away (the gear's port or client disappeared)")
            }
            if returnClient.connections(ofPort: returnPortName).isEmpty {
                throw HostError.jack("the connection from \(returnSource) to \(returnPortName) went away (the gear's port or client disappeared)")
            }
            if done != lastDone { lastDone = done; lastMove = Date() }
            if Date().timeIntervalSince(lastMove) > 3 {
                throw HostError.jack("JACK stopped running: nothing was recorded for 3 s (the server is stuck or gone)")
            }
        }
        let recording = Array(UnsafeBufferPointer(start: returnEngine.recording, count: recordFrames))
        let allocations = sendEngine.allocations.load(ordering: .relaxed) + returnEngine.allocations.load(ordering: .relaxed) - allocationsBefore
        return PlayRecordResult(recording: recording, xruns: sendEngine.xruns.load(ordering: .relaxed) - xrunsBefore,
                                callbackAllocations: allocations)
    }

    /// Lowers `armed` and waits until both callbacks have run a cycle since
    /// (or the server is gone), so the next run may refill the buffers.
    private func disarm() {
        sendEngine.armed.store(false, ordering: .releasing)
        let s = sendEngine.cycles.load(ordering: .acquiring), r = returnEngine.cycles.load(ordering: .acquiring)
        let deadline = Date().addingTimeInterval(1)
        while Date() < deadline {
            if sendEngine.cycles.load(ordering: .acquiring) > s + 1 && returnEngine.cycles.load(ordering: .acquiring) > r + 1 { return }
            if sendEngine.failure.withLock({ $0 }) != nil { return }
            usleep(2_000)
        }
    }
}

/// The sending client's real-time side.
final class SendEngine: JackClientDelegate, @unchecked Sendable {
    let client: JackClient
    let port: JackPort
    let capacity: Int
    let signal: UnsafeMutablePointer<Float>
    let count = Atomic<Int>(0)
    let ceiling = Atomic<UInt32>(0)
    let armed = Atomic<Bool>(false)
    /// Server frame time of the signal's first sample; -1 until chosen.
    let startFrame = Atomic<Int>(-1)
    let cycles = Atomic<Int>(0)
    let xruns = Atomic<Int>(0)
    /// Heap allocations counted in the callback (the real-time tests want 0).
    let allocations = Atomic<Int>(0)
    let meter = PeakMeter()
    let failure = Mutex<String?>(nil)

    init(client: JackClient, port: JackPort, capacity: Int) {
        self.client = client
        self.port = port
        self.capacity = capacity
        signal = .allocate(capacity: capacity)
        signal.initialize(repeating: 0, count: capacity)
    }

    deinit { signal.deallocate() }

    func jackProcess(frames: Int) {
        nfx_allocation_counting_begin()
        defer {
            allocations.add(Int(nfx_allocation_counting_end()), ordering: .relaxed)
            cycles.add(1, ordering: .releasing)
        }
        let out = port.audioBuffer(frames: frames)
        out.update(repeating: 0, count: frames)
        guard armed.load(ordering: .acquiring) else { return }
        let now = client.lastFrameTime
        var start = startFrame.load(ordering: .acquiring)
        if start < 0 {
            // Start on the next cycle: the return client (which may run in
            // parallel with this one) sees the start a whole cycle ahead.
            start = now + frames
            startFrame.store(start, ordering: .releasing)
            return
        }
        let n = count.load(ordering: .relaxed)
        let limit = Float(bitPattern: ceiling.load(ordering: .relaxed))
        var peak: Float = 0
        for i in 0..<frames {
            let k = now + i - start
            guard k >= 0 && k < n else { continue }
            let v = min(max(signal[k], -limit), limit)
            out[i] = v
            peak = max(peak, abs(v))
        }
        meter.raise(peak)
    }

    func jackBufferSizeChanged(frames: Int) {}
    func jackSampleRateChanged(rate: Int) {}
    func jackXrun() { xruns.add(1, ordering: .relaxed) }
    func jackLatency(capture: Bool) {}
    func jackShutdown(reason: String) { failure.withLock { $0 = "the JACK server went away (\(reason))" } }
}

/// The recording client's real-time side.
final class ReturnEngine: JackClientDelegate, @unchecked Sendable {
    let client: JackClient
    let port: JackPort
    let capacity: Int
    let recording: UnsafeMutablePointer<Float>
    let total = Atomic<Int>(0)
    /// Samples recorded so far (the highest index written, plus one).
    let recorded = Atomic<Int>(0)
    let cycles = Atomic<Int>(0)
    let allocations = Atomic<Int>(0)
    let meter = PeakMeter()
    let failure = Mutex<String?>(nil)
    unowned let send: SendEngine

    init(client: JackClient, port: JackPort, capacity: Int, send: SendEngine) {
        self.client = client
        self.port = port
        self.capacity = capacity
        self.send = send
        recording = .allocate(capacity: capacity)
        recording.initialize(repeating: 0, count: capacity)
    }

    deinit { recording.deallocate() }

    func jackProcess(frames: Int) {
        nfx_allocation_counting_begin()
        defer {
            allocations.add(Int(nfx_allocation_counting_end()), ordering: .relaxed)
            cycles.add(1, ordering: .releasing)
        }
        guard send.armed.load(ordering: .acquiring) else { return }
        let start = send.startFrame.load(ordering: .acquiring)
        guard start >= 0 else { return }
        let input = port.audioBuffer(frames: frames)
        let now = client.lastFrameTime
        let n = total.load(ordering: .relaxed)
        var peak: Float = 0, last = -1
        for i in 0..<frames {
            let k = now + i - start
            guard k >= 0 && k < n else { continue }
            recording[k] = input[i]
            peak = max(peak, abs(input[i]))
            last = k
        }
        meter.raise(peak)
        if last >= 0 { recorded.store(last + 1, ordering: .releasing) }
    }

    func jackBufferSizeChanged(frames: Int) {}
    func jackSampleRateChanged(rate: Int) {}
    func jackXrun() {}
    func jackLatency(capture: Bool) {}
    func jackShutdown(reason: String) { failure.withLock { $0 = "the JACK server went away (\(reason))" } }
}
