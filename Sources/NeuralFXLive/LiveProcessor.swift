import NeuralFXCore
import Synchronization

/// The part of fxhost that runs on the audio thread, shared by the JACK and
/// ALSA drivers: the current model's engines, a crossfade to a newly
/// installed model, bypass, the output DC blocker and the meters.
///
/// Other threads talk to it only through lock-free rings: commands in, used
/// engine sets out (so the last reference to a model is never dropped, and
/// nothing is freed, on the audio thread). A driver fills `inputs`/`outputs`
/// with one buffer per channel, calls `beginCycle()` once per period, then
/// `render(offset:frameCount:)` for the period, split wherever MIDI events fall.
public final class LiveProcessor: @unchecked Sendable {
    public let channels: Int
    public let statistics = HostStatistics()
    /// Per-channel buffers the driver points at before each cycle.
    public let inputs: UnsafeMutablePointer<UnsafePointer<Float>>
    public let outputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>

    struct Command {
        enum Kind: UInt8 { case knob, inputGain, outputGain, bypass, dcBlocker, install, learn, sampleRate }
        var kind: Kind
        var index: Int = 0
        var value: Double = 0
        var engines: UnsafeMutableRawPointer? = nil
    }

    private let commands = MessageRing<Command>(capacity: 1024)
    private let retired = MessageRing<UnsafeMutableRawPointer>(capacity: 64)
    /// Knob moves made on the audio thread (MIDI), for the control side's view.
    private let knobMoves = MessageRing<(knob: Int, value: Double)>(capacity: 256)
    /// Serializes producers on the control side; the audio thread never takes it.
    private let producer = Mutex<Void>(())

    // Audio-thread state.
    private var current: Unmanaged<EngineSet>
    private var incoming: Unmanaged<EngineSet>?
    private var fadeDone = 0
    private var fadeLength = 1
    private var sampleRate: Double
    private var wet: Float = 1, wetTarget: Float = 1, wetStep: Float = 0, wetLeft = 0
    private var dcBlocking = false
    private var dcCoefficient: Float = 0.9995
    private let dcPreviousInput: UnsafeMutablePointer<Float>
    private let dcPreviousOutput: UnsafeMutablePointer<Float>
    private var learnKnob = -1
    private let chunk: Int
    private let dry: [FloatBuffer]
    private let fading: FloatBuffer

    // Audio thread to control side.
    private let learned = Atomic<Int>(-1)          // cc << 16 | knob
    private let programChange = Atomic<Int>(-1)

    /// Seconds over which a model switch crossfades and bypass ramps.
    public static let crossfadeSeconds = 0.02

    /// Frames the processor hands an engine set at once.
    public static let chunkFrames = 1024

    public init(initial: EngineSet, sampleRate: Double) {
        let maxChunk = min(Self.chunkFrames, initial.maxBlockSize)
        channels = initial.engines.count
        current = Unmanaged.passRetained(initial)
        self.sampleRate = sampleRate
        chunk = maxChunk
        inputs = .allocate(capacity: channels)
        outputs = .allocate(capacity: channels)
        dry = (0..<channels).map { _ in FloatBuffer(count: maxChunk) }
        fading = FloatBuffer(count: maxChunk)
        dcPreviousInput = .allocate(capacity: channels)
        dcPreviousOutput = .allocate(capacity: channels)
        dcPreviousInput.initialize(repeating: 0, count: channels)
        dcPreviousOutput.initialize(repeating: 0, count: channels)
        updateRates()
    }

    deinit {
        collectRetired()
        current.release()
        incoming?.release()
        while let c = commands.pop() { if c.kind == .install, let p = c.engines { Unmanaged<EngineSet>.fromOpaque(p).release() } }
        inputs.deallocate()
        outputs.deallocate()
        dcPreviousInput.deallocate()
        dcPreviousOutput.deallocate()
    }

    private func updateRates() {
        fadeLength = max(Int(Self.crossfadeSeconds * sampleRate), 1)
        // One-pole high-pass near 5 Hz.
        dcCoefficient = Float(1 - 2 * Double.pi * 5 / sampleRate)
    }

    // MARK: Control side (any thread but the audio thread)

    private func send(_ command: Command) -> Bool {
        producer.withLock { _ in commands.push(command) }
    }

    /// Moves knob `index` of the most recently installed model (smoothed).
    @discardableResult public func setKnob(_ index: Int, to value: Double) -> Bool {
        send(Command(kind: .knob, index: index, value: value))
    }
    @discardableResult public func setInputGain(decibels: Double) -> Bool { send(Command(kind: .inputGain, value: decibels)) }
    @discardableResult public func setOutputGain(decibels: Double) -> Bool { send(Command(kind: .outputGain, value: decibels)) }
    @discardableResult public func setBypass(_ on: Bool) -> Bool { send(Command(kind: .bypass, value: on ? 1 : 0)) }
    @discardableResult public func setDCBlocker(_ on: Bool) -> Bool { send(Command(kind: .dcBlocker, value: on ? 1 : 0)) }
    /// The next MIDI controller that moves will be bound to knob `index`.
    @discardableResult public func learn(knob index: Int) -> Bool { send(Command(kind: .learn, index: index)) }
    /// Tells the processor the stream's rate changed (ramps and filters follow).
    @discardableResult public func setSampleRate(_ rate: Double) -> Bool { send(Command(kind: .sampleRate, value: rate)) }

    /// Hands a prepared model to the audio thread, which crossfades to it.
    /// Returns false (and keeps nothing) when the queue is full.
    @discardableResult public func install(_ engines: EngineSet) -> Bool {
        let p = Unmanaged.passRetained(engines)
        if send(Command(kind: .install, engines: p.toOpaque())) { return true }
        p.release()
        return false
    }

    /// Puts `engines` in place at once, without a crossfade, ending any that
    /// runs: for a host that restarts processing (an LV2 plugin's
    /// activate()), when the audio thread is known not to run. The replaced
    /// sets are freed here.
    public func replaceWhileStopped(with engines: EngineSet) {
        current.release()
        incoming?.release()
        incoming = nil
        current = Unmanaged.passRetained(engines)
        fadeRunning.store(false, ordering: .releasing)
        wet = wetTarget
        wetLeft = 0
    }

    /// Frees the engine sets the audio thread has finished with. Call it
    /// regularly from the control thread.
    public func collectRetired() {
        while let p = retired.pop() { Unmanaged<EngineSet>.fromOpaque(p).release() }
    }

    /// Knobs moved by MIDI since the last call, oldest first.
    public func takeKnobMoves() -> [(knob: Int, value: Double)] {
        var moves: [(knob: Int, value: Double)] = []
        while let m = knobMoves.pop() { moves.append(m) }
        return moves
    }

    /// A MIDI controller bound by learn mode since the last call.
    public func takeLearned() -> (controller: Int, knob: Int)? {
        let v = learned.exchange(-1, ordering: .acquiringAndReleasing)
        return v < 0 ? nil : (v >> 16, v & 0xffff)
    }

    /// The last MIDI program change received since the last call.
    public func takeProgramChange() -> Int? {
        let v = programChange.exchange(-1, ordering: .acquiringAndReleasing)
        return v < 0 ? nil : v
    }

    /// True once every command sent so far has been applied and no crossfade
    /// is running.
    public var isSettled: Bool { commands.isEmpty && !fadeRunning.load(ordering: .acquiring) }
    private let fadeRunning = Atomic<Bool>(false)

    // MARK: Audio thread

    // A plugin reads its control ports on the audio thread itself: these apply
    // there at once, through neither the command ring nor its producer lock.
    // A model still arrives through `install` (from the plugin's worker).

    public func setKnobOnAudioThread(_ index: Int, to value: Double) { apply(Command(kind: .knob, index: index, value: value)) }
    public func setInputGainOnAudioThread(decibels: Double) { apply(Command(kind: .inputGain, value: decibels)) }
    public func setOutputGainOnAudioThread(decibels: Double) { apply(Command(kind: .outputGain, value: decibels)) }
    public func setBypassOnAudioThread(_ on: Bool) { apply(Command(kind: .bypass, value: on ? 1 : 0)) }

    /// The engine set the next frames go to: the incoming one during a crossfade.
    public var latestEngineSet: EngineSet { latest }


    private var latest: EngineSet { (incoming ?? current).takeUnretainedValue() }

    /// Applies queued commands. During a crossfade nothing is taken, so
    /// commands stay in order and a second switch waits for the first.
    public func beginCycle() {
        while incoming == nil, let c = commands.pop() { apply(c) }
    }

    private func apply(_ c: Command) {
        switch c.kind {
        case .knob:
            for e in latest.engines { e.setKnob(c.index, to: c.value) }
        case .inputGain:
            for e in latest.engines { e.setInputGain(decibels: c.value) }
        case .outputGain:
            for e in latest.engines { e.setOutputGain(decibels: c.value) }
        case .bypass:
            wetTarget = c.value != 0 ? 0 : 1
            wetLeft = fadeLength
            wetStep = (wetTarget - wet) / Float(fadeLength)
        case .dcBlocker:
            dcBlocking = c.value != 0
        case .learn:
            learnKnob = c.index
        case .sampleRate:
            sampleRate = c.value
            updateRates()
        case .install:
            guard let p = c.engines else { return }
            incoming = Unmanaged<EngineSet>.fromOpaque(p)
            fadeDone = 0
            fadeRunning.store(true, ordering: .releasing)
        }
    }

    /// A decoded MIDI event, applied before the frames rendered next.
    public func apply(_ message: MidiMessage) {
        switch message {
        case let .controlChange(controller, value): controlChange(controller: controller, value: value)
        case let .programChange(program): programChange(program)
        }
    }

    /// A MIDI control change, applied before the frames rendered next.
    public func controlChange(controller: Int, value: Int) {
        statistics.midiMessages.wrappingAdd(1, ordering: .relaxed)
        guard (0...127).contains(controller) else { return }
        let set = latest
        if learnKnob >= 0 {
            set.controllerKnob[controller] = learnKnob
            learned.store(controller << 16 | learnKnob, ordering: .releasing)
            learnKnob = -1
        }
        let knob = set.controllerKnob[controller]
        guard knob >= 0 else { return }
        let v = MidiMap.knobValue(controllerValue: value, of: set.model.knobs.knobs[knob])
        for e in set.engines { e.setKnob(knob, to: v) }
        // If the control side falls behind, its display misses a move; the
        // sound does not.
        _ = knobMoves.push((knob, v))
    }

    public func programChange(_ program: Int) {
        statistics.midiMessages.wrappingAdd(1, ordering: .relaxed)
        programChange.store(program, ordering: .releasing)
    }

    /// Processes `frameCount` frames starting `offset` frames into the
    /// driver's buffers. Inputs and outputs may be the same memory.
    public func render(offset: Int, frameCount: Int) {
        var done = 0
        while done < frameCount {
            let n = min(chunk, frameCount - done)
            renderChunk(offset + done, n)
            done += n
        }
        statistics.framesProcessed.wrappingAdd(frameCount, ordering: .relaxed)
    }

    private func renderChunk(_ offset: Int, _ n: Int) {
        let cur = current.takeUnretainedValue()
        let next = incoming?.takeUnretainedValue()
        var inPeak: Float = 0, outPeak: Float = 0, inEnergy = 0.0, outEnergy = 0.0
        for c in 0..<channels {
            let input = inputs[c] + offset, output = outputs[c] + offset
            let x = dry[c].pointer
            x.update(from: input, count: n)
            cur.process(channel: c, x, output, frameCount: n)
            if let next {
                let y = fading.pointer
                next.process(channel: c, x, y, frameCount: n)
                let total = Float(fadeLength)
                for i in 0..<n {
                    let f = min(Float(fadeDone + i + 1) / total, 1)
                    output[i] += (y[i] - output[i]) * f
                }
            }
            if wet != 1 || wetLeft > 0 {
                var w = wet, left = wetLeft
                for i in 0..<n {
                    if left > 0 { w += wetStep; left -= 1; if left == 0 { w = wetTarget } }
                    output[i] = x[i] + (output[i] - x[i]) * w
                }
            }
            if dcBlocking {
                var x1 = dcPreviousInput[c], y1 = dcPreviousOutput[c]
                for i in 0..<n {
                    let v = output[i]
                    y1 = v - x1 + dcCoefficient * y1
                    x1 = v
                    output[i] = y1
                }
                dcPreviousInput[c] = x1
                dcPreviousOutput[c] = y1
            }
            for i in 0..<n {
                let a = x[i], b = output[i]
                inPeak = max(inPeak, abs(a)); outPeak = max(outPeak, abs(b))
                inEnergy += Double(a * a); outEnergy += Double(b * b)
            }
        }
        statistics.noteLevels(inputPeak: inPeak, outputPeak: outPeak, inputEnergy: inEnergy, outputEnergy: outEnergy)
        advanceRamps(n)
    }

    private func advanceRamps(_ n: Int) {
        if wetLeft > 0 {
            let k = min(n, wetLeft)
            wet += wetStep * Float(k)
            wetLeft -= k
            if wetLeft == 0 { wet = wetTarget }
        }
        guard let next = incoming else { return }
        fadeDone += n
        if fadeDone >= fadeLength {
            // The control thread drops the old set. Should the ring ever be
            // full, the set leaks: freeing it here would break the deadline.
            _ = retired.push(current.toOpaque())
            current = next
            incoming = nil
            statistics.modelSwitches.wrappingAdd(1, ordering: .relaxed)
            fadeRunning.store(false, ordering: .releasing)
        }
    }
}
