import CJack
import Glibc
import Synchronization

/// What a JACK client is told by the server. `process` runs on JACK's
/// real-time thread; the others on its notification thread.
public protocol JackClientDelegate: AnyObject {
    func jackProcess(frames: Int)
    func jackBufferSizeChanged(frames: Int)
    func jackSampleRateChanged(rate: Int)
    func jackXrun()
    func jackLatency(capture: Bool)
    /// The server went away or threw the client out; the client is dead.
    func jackShutdown(reason: String)
    /// The server entered or left freewheel mode (no deadlines).
    func jackFreewheel(on: Bool)
}

extension JackClientDelegate {
    public func jackFreewheel(on: Bool) {}
}

/// A JACK port of this client (audio or MIDI).
public struct JackPort {
    let handle: OpaquePointer

    public var name: String { String(cString: jack_port_name(handle)) }

    /// The port's buffer this cycle, as audio samples (process thread only).
    public func audioBuffer(frames: Int) -> UnsafeMutablePointer<Float> {
        jack_port_get_buffer(handle, jack_nframes_t(frames))!.assumingMemoryBound(to: Float.self)
    }

    /// The port's MIDI buffer this cycle (process thread only).
    public func midiBuffer(frames: Int) -> JackMidiBuffer {
        JackMidiBuffer(raw: jack_port_get_buffer(handle, jack_nframes_t(frames))!)
    }

    public func latencyRange(capture: Bool) -> ClosedRange<Int> {
        var r = jack_latency_range_t()
        jack_port_get_latency_range(handle, capture ? JackCaptureLatency : JackPlaybackLatency, &r)
        return Int(r.min)...Int(max(r.min, r.max))
    }

    public func setLatencyRange(_ range: ClosedRange<Int>, capture: Bool) {
        var r = jack_latency_range_t(min: jack_nframes_t(range.lowerBound), max: jack_nframes_t(range.upperBound))
        jack_port_set_latency_range(handle, capture ? JackCaptureLatency : JackPlaybackLatency, &r)
    }
}

/// One cycle's MIDI events of a port. Reading and writing allocate nothing.
public struct JackMidiBuffer {
    let raw: UnsafeMutableRawPointer

    public var eventCount: Int { Int(jack_midi_get_event_count(raw)) }

    /// Event `index`: its frame within the cycle and its bytes (valid this cycle).
    public func event(_ index: Int) -> (frame: Int, bytes: UnsafeBufferPointer<UInt8>)? {
        var e = jack_midi_event_t()
        guard jack_midi_event_get(&e, raw, UInt32(index)) == 0, let b = e.buffer else { return nil }
        return (Int(e.time), UnsafeBufferPointer(start: b, count: e.size))
    }

    public func clear() { jack_midi_clear_buffer(raw) }

    /// Writes a short message at `frame`; false when the buffer is full.
    @discardableResult
    public func write(frame: Int, _ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Bool {
        guard let p = jack_midi_event_reserve(raw, jack_nframes_t(frame), 3) else { return false }
        p[0] = b0; p[1] = b1; p[2] = b2
        return true
    }
}

/// A client of a JACK server, wrapping libjack once for the rest of the code.
public final class JackClient {
    let handle: OpaquePointer
    private weak var delegate: JackClientDelegate?
    private var closed = false
    /// Set on JACK's notification thread when the server goes away.
    private let serverGone = Atomic<Bool>(false)

    public static let audioType = "32 bit float mono audio"
    public static let midiType = "8 bit raw midi"

    /// Connects to the server `server` (or the default one) as `name`.
    /// Never starts a server: a missing one is an error the user should see.
    public init(name: String, server: String?) throws {
        var status = jack_status_t(rawValue: 0)
        let options = jack_options_t(rawValue: JackNoStartServer.rawValue)
        // libjack prints its own diagnostics to stderr; we say one line instead.
        jack_set_error_function { _ in }
        jack_set_info_function { _ in }
        guard let h = nfx_jack_client_open(name, options, &status, server) else {
            let which = server.map { "JACK server '\($0)'" } ?? "the JACK server"
            if status.rawValue & JackServerFailed.rawValue != 0 {
                throw HostError.jack("cannot connect to \(which): is it running?")
            }
            throw HostError.jack("\(which) refused client '\(name)' (JACK status 0x\(String(status.rawValue, radix: 16)))")
        }
        handle = h
    }

    deinit { close() }

    public var name: String { String(cString: jack_get_client_name(handle)) }
    public var sampleRate: Int { Int(jack_get_sample_rate(handle)) }
    public var bufferSize: Int { Int(jack_get_buffer_size(handle)) }
    /// Frames into the current cycle, for timing on the process thread.
    public var framesSinceCycleStart: Int { Int(jack_frames_since_cycle_start(handle)) }
    public var lastFrameTime: Int { Int(jack_last_frame_time(handle)) }

    public func registerPort(_ portName: String, midi: Bool, input: Bool) throws -> JackPort {
        let flags = UInt(input ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue)
        guard let p = jack_port_register(handle, portName, midi ? Self.midiType : Self.audioType, flags, 0) else {
            throw HostError.jack("cannot register JACK port '\(portName)'")
        }
        return JackPort(handle: p)
    }

    /// Installs the callbacks. The delegate must outlive the client's activity.
    public func setDelegate(_ d: JackClientDelegate) {
        delegate = d
        let me = Unmanaged.passUnretained(self).toOpaque()
        jack_set_process_callback(handle, { frames, arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackProcess(frames: Int(frames))
            return 0
        }, me)
        jack_set_buffer_size_callback(handle, { frames, arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackBufferSizeChanged(frames: Int(frames))
            return 0
        }, me)
        jack_set_sample_rate_callback(handle, { rate, arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackSampleRateChanged(rate: Int(rate))
            return 0
        }, me)
        jack_set_xrun_callback(handle, { arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackXrun()
            return 0
        }, me)
        jack_set_latency_callback(handle, { mode, arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackLatency(capture: mode == JackCaptureLatency)
        }, me)
        jack_set_freewheel_callback(handle, { on, arg in
            Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue().delegate?.jackFreewheel(on: on != 0)
        }, me)
        jack_on_info_shutdown(handle, { _, reason, arg in
            let text = reason.map { String(cString: $0) } ?? "server shut down"
            let client = Unmanaged<JackClient>.fromOpaque(arg!).takeUnretainedValue()
            client.serverGone.store(true, ordering: .releasing)
            client.delegate?.jackShutdown(reason: text)
        }, me)
    }

    public func activate() throws {
        guard jack_activate(handle) == 0 else { throw HostError.jack("cannot activate JACK client '\(name)'") }
    }

    /// Freewheel mode runs the graph as fast as it can, without deadlines
    /// (offline bounces, and tests that must not depend on machine load).
    public func setFreewheel(_ on: Bool) throws {
        guard jack_set_freewheel(handle, on ? 1 : 0) == 0 else { throw HostError.jack("cannot set JACK freewheel mode") }
    }

    /// Asks the server to recompute latencies after ours changed.
    public func latencyChanged() { jack_recompute_total_latencies(handle) }

    /// Connects two ports by full name; an existing connection is fine.
    public func connect(_ source: String, _ destination: String) throws {
        let r = jack_connect(handle, source, destination)
        guard r == 0 || r == EEXIST else {
            throw HostError.jack("cannot connect JACK port '\(source)' to '\(destination)'")
        }
    }

    /// The latency range JACK computed for any port, by full name.
    public func latencyRange(ofPort fullName: String, capture: Bool) -> ClosedRange<Int>? {
        guard let p = jack_port_by_name(handle, fullName) else { return nil }
        return JackPort(handle: p).latencyRange(capture: capture)
    }

    /// Full names of the ports connected to a port.
    public func connections(ofPort fullName: String) -> [String] {
        guard let p = jack_port_by_name(handle, fullName) else { return [] }
        return Self.take(jack_port_get_all_connections(handle, p))
    }

    /// Copies a NULL-terminated name list from libjack and frees it.
    private static func take(_ list: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        defer { jack_free(list) }
        var names: [String] = []
        var i = 0
        while let n = list[i] { names.append(String(cString: n)); i += 1 }
        return names
    }

    /// Asks the server for another period size (fxhost follows such changes).
    public func setBufferSize(_ frames: Int) throws {
        guard jack_set_buffer_size(handle, jack_nframes_t(frames)) == 0 else {
            throw HostError.jack("cannot set the JACK buffer size to \(frames)")
        }
    }

    /// Whether a port of that full name exists.
    public func portExists(_ fullName: String) -> Bool { jack_port_by_name(handle, fullName) != nil }

    /// Ports matching a regular expression (nil: all), optionally by type and direction.
    public func ports(matching pattern: String? = nil, midi: Bool? = nil, inputs: Bool? = nil) -> [String] {
        let type = midi.map { $0 ? Self.midiType : Self.audioType }
        var flags: UInt = 0
        if let inputs { flags = UInt(inputs ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue) }
        return Self.take(jack_get_ports(handle, pattern, type, flags))
    }

    /// Physical ports (system capture/playback), for default connections.
    public func physicalPorts(inputs: Bool) -> [String] {
        let flags = UInt(JackPortIsPhysical.rawValue | (inputs ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue))
        return Self.take(jack_get_ports(handle, nil, Self.audioType, flags))
    }

    /// Deactivates and leaves the server. Safe to call twice, and after the
    /// server has gone: then only `jack_client_close`, which frees libjack's
    /// side, since deactivating asks a server that is no longer there (once in
    /// a CI run fxhost had not exited 10 s after its server did).
    public func close() {
        guard !closed else { return }
        closed = true
        if !serverGone.load(ordering: .acquiring) { jack_deactivate(handle) }
        jack_client_close(handle)
    }
}
