import NeuralFXHost
import Synchronization

/// The second JACK client of the live tests: plays a known signal, sends MIDI
/// at given samples, and records what comes back, all sample-aligned: the
/// sample recorded at index k arrived in the same cycle that sample k played.
final class PlayerRecorder: JackClientDelegate {
    let client: JackClient
    let playPort: JackPort
    let recordPort: JackPort
    let midiPort: JackPort
    let signal: [Float]
    /// (sample index, status, data1, data2), in sample order.
    let midi: [(at: Int, status: UInt8, data1: UInt8, data2: UInt8)]
    private let recording: UnsafeMutablePointer<Float>
    private let capacity: Int
    private let armed = Atomic<Bool>(false)
    private let freewheeling = Atomic<Bool>(false)
    /// Whether playback must wait for the server to be in freewheel mode.
    private let needsFreewheel = Atomic<Bool>(false)
    private let recorded = Atomic<Int>(0)
    private var position = 0
    private var freewheelCycles = 0
    private var nextEvent = 0

    init(server: String, signal: [Float], extra: Int, midi: [(at: Int, status: UInt8, data1: UInt8, data2: UInt8)] = []) throws {
        client = try JackClient(name: "player", server: server)
        playPort = try client.registerPort("play", midi: false, input: false)
        recordPort = try client.registerPort("rec", midi: false, input: true)
        midiPort = try client.registerPort("midi", midi: true, input: false)
        self.signal = signal
        self.midi = midi
        capacity = signal.count + extra
        recording = .allocate(capacity: capacity)
        recording.initialize(repeating: 0, count: capacity)
        client.setDelegate(self)
        try client.activate()
    }

    deinit {
        client.close()
        recording.deallocate()
    }

    var playName: String { "\(client.name):play" }
    var recordName: String { "\(client.name):rec" }
    var midiName: String { "\(client.name):midi" }

    /// Starts playing on the next cycle; with `afterFreewheel`, on the first
    /// cycle run in freewheel mode, so no real-time cycle can spoil it.
    func start(afterFreewheel: Bool = false) {
        needsFreewheel.store(afterFreewheel, ordering: .releasing)
        armed.store(true, ordering: .releasing)
    }

    /// Samples recorded so far.
    var recordedCount: Int { recorded.load(ordering: .acquiring) }
    var isDone: Bool { recordedCount >= capacity }

    var recordingSoFar: [Float] { Array(UnsafeBufferPointer(start: recording, count: recordedCount)) }

    func jackProcess(frames: Int) {
        let out = playPort.audioBuffer(frames: frames)
        let input = recordPort.audioBuffer(frames: frames)
        let events = midiPort.midiBuffer(frames: frames)
        events.clear()
        // In freewheel mode, let a few cycles pass first: the switch from
        // real time is announced before the last real-time cycles are done.
        if freewheeling.load(ordering: .acquiring) { freewheelCycles += 1 }
        let waiting = needsFreewheel.load(ordering: .acquiring) && freewheelCycles < 32
        guard armed.load(ordering: .acquiring), !waiting, position < capacity else {
            out.update(repeating: 0, count: frames)
            return
        }
        signal.withUnsafeBufferPointer { s in
            for i in 0..<frames { out[i] = position + i < s.count ? s[position + i] : 0 }
        }
        while nextEvent < midi.count && midi[nextEvent].at < position + frames {
            let e = midi[nextEvent]
            events.write(frame: max(e.at - position, 0), e.status, e.data1, e.data2)
            nextEvent += 1
        }
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
