import CAllocationCounter
import CJack
import Glibc
import Synchronization

/// fxhost's JACK driver: audio ports per channel and a MIDI input, the
/// processor run in the process callback, latency reported to the graph.
public final class JackHost: JackClientDelegate {
    public let client: JackClient
    public let processor: LiveProcessor
    public let inputPorts: [JackPort]
    public let outputPorts: [JackPort]
    public let midiPort: JackPort?
    private let stop: StopSignal
    private let sampleRate: Atomic<Int>
    /// Frames the effect itself adds between input and output.
    private let addedLatency = Atomic<Int>(0)

    public init(client: JackClient, processor: LiveProcessor, midi: Bool, stop: StopSignal) throws {
        self.client = client
        self.processor = processor
        self.stop = stop
        sampleRate = Atomic(client.sampleRate)
        let stereo = processor.channels > 1
        inputPorts = try (0..<processor.channels).map {
            try client.registerPort(stereo ? "in_\($0 + 1)" : "in", midi: false, input: true)
        }
        outputPorts = try (0..<processor.channels).map {
            try client.registerPort(stereo ? "out_\($0 + 1)" : "out", midi: false, input: false)
        }
        midiPort = midi ? try client.registerPort("midi_in", midi: true, input: true) : nil
        client.setDelegate(self)
    }

    public func activate() throws { try client.activate() }

    /// Connects our inputs from `sources` and our outputs to `destinations`
    /// (full port names, paired in order). Unknown ports are an error.
    public func connect(inputsFrom sources: [String], outputsTo destinations: [String], midiFrom: String?) throws {
        for name in sources + destinations + (midiFrom.map { [$0] } ?? []) where !client.portExists(name) {
            throw HostError.jack("no JACK port named '\(name)' (see --list-ports)")
        }
        for (port, source) in zip(inputPorts, sources) { try client.connect(source, port.name) }
        // More destinations than channels: the last channel feeds the rest
        // (a mono effect into both speakers).
        for (i, destination) in destinations.enumerated() where !outputPorts.isEmpty {
            try client.connect(outputPorts[min(i, outputPorts.count - 1)].name, destination)
        }
        if let midiFrom, let midiPort { try client.connect(midiFrom, midiPort.name) }
    }

    // MARK: JackClientDelegate

    public func jackProcess(frames: Int) {
        nfx_allocation_counting_begin()
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        for c in 0..<processor.channels {
            processor.inputs[c] = UnsafePointer(inputPorts[c].audioBuffer(frames: frames))
            processor.outputs[c] = outputPorts[c].audioBuffer(frames: frames)
        }
        processor.beginCycle()
        var done = 0
        if let midiPort {
            // Split the period at each event so knobs move on the right sample.
            let buffer = midiPort.midiBuffer(frames: frames)
            for i in 0..<buffer.eventCount {
                guard let (frame, bytes) = buffer.event(i), let message = MidiMessage.decode(bytes) else { continue }
                let at = min(frame, frames)
                if at > done { processor.render(offset: done, frameCount: at - done); done = at }
                processor.apply(message)
            }
        }
        if done < frames { processor.render(offset: done, frameCount: frames - done) }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        let elapsed = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
        let period = Double(frames) / Double(max(sampleRate.load(ordering: .relaxed), 1))
        let allocations = Int(nfx_allocation_counting_end())
        processor.statistics.noteCallback(elapsed: elapsed, period: period, allocations: allocations)
    }

    public func jackBufferSizeChanged(frames: Int) {
        // The processor splits any period into its own chunks: nothing to
        // reallocate. Latencies are in frames and JACK asks for them again.
    }

    public func jackSampleRateChanged(rate: Int) {
        sampleRate.store(rate, ordering: .relaxed)
        processor.setSampleRate(Double(rate))
    }

    public func jackXrun() { processor.statistics.noteXrun() }

    /// Our outputs lag our inputs by `addedLatency`: pass the graph's
    /// latency through with that added, in both directions.
    public func jackLatency(capture: Bool) {
        let extra = addedLatency.load(ordering: .relaxed)
        if capture {
            for (i, o) in zip(inputPorts, outputPorts) {
                let r = i.latencyRange(capture: true)
                o.setLatencyRange((r.lowerBound + extra)...(r.upperBound + extra), capture: true)
            }
        } else {
            for (i, o) in zip(inputPorts, outputPorts) {
                let r = o.latencyRange(capture: false)
                i.setLatencyRange((r.lowerBound + extra)...(r.upperBound + extra), capture: false)
            }
        }
    }

    public func setAddedLatency(frames: Int) {
        if addedLatency.exchange(frames, ordering: .relaxed) != frames { client.latencyChanged() }
    }

    public func jackShutdown(reason: String) {
        stop.raise("JACK server shut down: \(reason)", failure: true)
    }

    public func close() { client.close() }
}
