import Dispatch
import Glibc
import NeuralFXCore
import NeuralFXTools
import Synchronization

/// The control side of a running host: what the user sees and changes. Lives
/// on one control thread (the UI or script loop); talks to the audio thread
/// only through the processor's rings, and loads models on a background queue.
public final class HostSession {
    public let processor: LiveProcessor
    public private(set) var model: EffectModel
    public private(set) var knobValues: [Double]
    public private(set) var midiMap: MidiMap
    public private(set) var bypassed = false
    public private(set) var inputGainDecibels: Double
    public private(set) var outputGainDecibels: Double
    public private(set) var dcBlocker: Bool
    public private(set) var loading: String?
    public let stop: StopSignal
    /// Presets selected by MIDI program change, in program order.
    public var programs: [String] = []

    /// Called on the control thread when a model starts playing, with the
    /// frames of latency it adds (resampling), so a driver can report them.
    public var onLatencyChange: ((Int) -> Void)?
    public private(set) var latencyFrames: Int
    private let channels: Int
    private let maxBlockSize: Int
    private let streamRate: Int
    private let loader = DispatchQueue(label: "neuralfx.fxhost.loader")
    private let loaded = Mutex<[Result<Loaded, HostError>]>([])

    /// A model built on the loader queue, waiting to be installed.
    private struct Loaded {
        var set: EngineSet
        var what: String
        /// Gains a preset sets (nil: keep the current ones).
        var gains: (input: Double, output: Double)?
        /// Whether knobs turned during the load should carry over (a model
        /// switch) or the loaded values stand (a preset).
        var keepTurnedKnobs: Bool
    }
    /// Messages for the user (UI or script output), oldest first.
    private var notices: [String] = []

    public struct Settings {
        public var channels = 1
        public var maxBlockSize = 1024
        public var midiMap = MidiMap()
        public var dcBlocker = false
        public var bypassed = false
        public init() {}
    }

    /// `effect`: the knob values and gains to start with (from
    /// `ModelSource.configuration`).
    public init(model: EffectModel, effect: EffectSettings, sampleRate: Double, settings s: Settings,
                stop: StopSignal) throws {
        try Self.check(s.midiMap, for: model)
        self.model = model
        self.stop = stop
        channels = s.channels
        maxBlockSize = s.maxBlockSize
        midiMap = s.midiMap
        inputGainDecibels = effect.inputGainDB
        outputGainDecibels = effect.outputGainDB
        dcBlocker = s.dcBlocker
        knobValues = effect.values
        streamRate = Int(sampleRate.rounded())
        let set = try EngineSet(model: model, channels: channels, streamRate: streamRate, maxBlockSize: maxBlockSize,
                            knobValues: Dictionary(uniqueKeysWithValues: zip(model.knobs.names, knobValues)),
                            inputGainDecibels: inputGainDecibels, outputGainDecibels: outputGainDecibels, midiMap: midiMap)
        latencyFrames = set.latencyFrames
        processor = LiveProcessor(initial: set, sampleRate: sampleRate)
        if dcBlocker { processor.setDCBlocker(true) }
        if s.bypassed { setBypass(true) }
    }

    /// Refuses a MIDI map naming knobs the model does not have (called
    /// before any audio device is opened).
    public static func check(_ midiMap: MidiMap, for model: EffectModel) throws {
        for name in midiMap.knobForController.values where model.knobs.index(of: name) == nil {
            throw HostError.badArgument("--midi-map: " + KnobError.unknownKnob(name, valid: model.knobs.names).description)
        }
    }

    // MARK: Changes

    /// Applies `name=value` (a number, or a switch position).
    public func set(_ text: String) throws {
        do {
            let (i, v) = try model.knobs.setting(text)
            setKnob(i, to: v)
        } catch let e as KnobError { throw HostError.badArgument(e.description) }
    }

    public func setKnob(_ index: Int, to value: Double) {
        let k = model.knobs.knobs[index]
        let v = min(max(value, k.minimum), k.maximum)
        knobValues[index] = v
        processor.setKnob(index, to: v)
    }

    /// Moves a knob by `fraction` of its range (a switch by one position).
    public func nudge(_ index: Int, by fraction: Double) {
        let k = model.knobs.knobs[index]
        let step = k.isSwitch ? (fraction > 0 ? 1.0 : -1.0) : fraction * (k.maximum - k.minimum)
        setKnob(index, to: knobValues[index] + step)
    }

    public func setBypass(_ on: Bool) { bypassed = on; processor.setBypass(on) }
    public func setInputGain(decibels: Double) { inputGainDecibels = decibels; processor.setInputGain(decibels: decibels) }
    public func setOutputGain(decibels: Double) { outputGainDecibels = decibels; processor.setOutputGain(decibels: decibels) }
    public func setDCBlocker(_ on: Bool) { dcBlocker = on; processor.setDCBlocker(on) }

    public func learn(_ knobName: String) throws {
        guard let i = model.knobs.index(of: knobName) else {
            throw HostError.badArgument(KnobError.unknownKnob(knobName, valid: model.knobs.names).description)
        }
        processor.learn(knob: i)
        notices.append("learn: move a MIDI controller to bind it to '\(knobName)'")
    }

    /// Loads a model on the background queue; `poll()` installs it when ready.
    /// Knobs with the same names keep their values.
    public func load(_ spec: String) {
        let values = Dictionary(uniqueKeysWithValues: zip(model.knobs.names, knobValues))
        startLoading(spec) { build in
            Loaded(set: try build(try ModelSource.model(spec), values, nil), what: "model", gains: nil, keepTurnedKnobs: true)
        }
    }

    /// Loads a preset on the background queue: its model (or the current
    /// one), its knobs over the current values, its gains.
    public func loadPreset(_ spec: String) {
        let (current, values) = (model, Dictionary(uniqueKeysWithValues: zip(model.knobs.names, knobValues)))
        startLoading(spec) { build in
            let (preset, path) = try ModelSource.preset(spec)
            let m = try preset.model.map { try ModelSource.model($0) } ?? current
            var merged = values
            do {
                for (i, v) in try preset.settings(for: m.knobs, source: path) { merged[m.knobs.knobs[i].name] = v }
            } catch { throw HostError.model("\(error)") }
            let gains = (preset.inputGainDB, preset.outputGainDB)
            return Loaded(set: try build(m, merged, gains),
                          what: "preset", gains: gains, keepTurnedKnobs: false)
        }
    }

    /// Runs `make` on the loader queue with a function that builds an engine
    /// set like the current one (channels, rate, gains, MIDI map).
    private func startLoading(_ what: String,
                              _ make: @escaping (_ build: (EffectModel, [String: Double], (Double, Double)?) throws -> EngineSet) throws -> Loaded) {
        loading = what
        let (channels, rate, maxBlockSize, inDB, outDB, map) = (self.channels, streamRate, self.maxBlockSize,
                                                                 inputGainDecibels, outputGainDecibels, midiMap)
        loader.async { [self] in
            let result: Result<Loaded, HostError>
            do {
                result = .success(try make { model, values, gains in
                    try EngineSet(model: model, channels: channels, streamRate: rate, maxBlockSize: maxBlockSize,
                              knobValues: values, inputGainDecibels: gains?.0 ?? inDB, outputGainDecibels: gains?.1 ?? outDB,
                              midiMap: map)
                })
            } catch let e as HostError {
                result = .failure(e)
            } catch {
                result = .failure(.model("cannot load '\(what)': \(error)"))
            }
            loaded.withLock { $0.append(result) }
        }
    }

    /// Does the control side's periodic work: installs loaded models, frees
    /// retired ones, picks up MIDI learn and program changes. Returns notices.
    public func poll() -> [String] {
        processor.collectRetired()
        for result in loaded.withLock({ r -> [Result<Loaded, HostError>] in defer { r = [] }; return r }) {
            loading = nil
            switch result {
            case let .success(loaded):
                let set = loaded.set
                let old = Dictionary(uniqueKeysWithValues: zip(model.knobs.names, knobValues))
                model = set.model
                knobValues = model.knobs.knobs.map { set.initialKnobValues[$0.name] ?? $0.defaultValue }
                if let gains = loaded.gains { (inputGainDecibels, outputGainDecibels) = gains }
                processor.install(set)
                // Knobs turned while a model loaded: bring it up to date.
                for (i, k) in model.knobs.knobs.enumerated() where loaded.keepTurnedKnobs {
                    if let v = old[k.name], v != knobValues[i] { setKnob(i, to: v) }
                }
                if set.latencyFrames != latencyFrames {
                    latencyFrames = set.latencyFrames
                    onLatencyChange?(latencyFrames)
                }
                notices.append("loaded \(loaded.what) '\(model.name)'")
            case let .failure(e):
                notices.append("error: \(e.description)")
            }
        }
        for (knob, value) in processor.takeKnobMoves() where knob < knobValues.count { knobValues[knob] = value }
        if let (cc, knob) = processor.takeLearned(), knob < model.knobs.count {
            midiMap.knobForController[cc] = model.knobs.knobs[knob].name
            notices.append("learned cc\(cc)=\(model.knobs.knobs[knob].name)")
        }
        if let program = processor.takeProgramChange() {
            if programs.indices.contains(program) { loadPreset(programs[program]) }
            else { notices.append("MIDI program \(program) has no entry in --programs") }
        }
        defer { notices = [] }
        return notices
    }

    /// True when nothing is loading and the audio thread has applied everything.
    public var isSettled: Bool { loading == nil && loaded.withLock { $0.isEmpty } && processor.isSettled }

    // MARK: Reports

    public func knobDescription(_ i: Int) -> String {
        let k = model.knobs.knobs[i]
        return "\(k.name)=\(k.describe(knobValues[i]))"
    }

    /// One line: knobs, meters, gain change, load, xruns.
    public func statusLine() -> String {
        let s = processor.statistics
        let levels = s.takeLevels()
        func db(_ x: Float) -> String { x <= 1e-5 ? " -inf" : fixed(20 * log10(Double(x)), 1, width: 5) }
        var parts = [model.name + (bypassed ? " [bypass]" : "")]
        parts.append((0..<model.knobs.count).map(knobDescription).joined(separator: " "))
        parts.append("in \(db(levels.inputPeak)) out \(db(levels.outputPeak)) dBFS")
        if let g = levels.gainChangeDecibels, g < -0.05 { parts.append("GR \(fixed(-g, 1, width: 4)) dB") }
        parts.append("DSP \(fixed(s.dspLoad * 100, 1, width: 5))%")
        parts.append("xruns \(s.xruns)")
        if let loading { parts.append("loading \(loading)…") }
        return parts.joined(separator: " | ")
    }

    /// Totals for scripts and tests, one JSON object.
    public func statisticsJSON() -> String {
        let s = processor.statistics
        let knobs = (0..<model.knobs.count).map { "\"\(model.knobs.knobs[$0].name)\":\(knobValues[$0])" }.joined(separator: ",")
        return "{\"model\":\"\(model.name)\",\"knobs\":{\(knobs)},\"frames\":\(s.frames),\"callbacks\":\(s.callbacks),"
            + "\"xruns\":\(s.xruns),\"latency_frames\":\(latencyFrames),\"callback_allocations\":\(s.callbackAllocations),"
            + "\"mean_dsp_load\":\(fixed(s.meanDSPLoad, 4, width: 0)),\"max_dsp_load\":\(fixed(s.maxDSPLoad, 4, width: 0)),\"model_switches\":\(s.switches),"
            + "\"midi_messages\":\(s.midiMessagesReceived),\"midi_map\":\"\(midiMap.description)\"}"
    }
}

/// `value` with `decimals` decimals, right-aligned to `width`.
func fixed(_ value: Double, _ decimals: Int, width: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (value * scale).rounded() / scale
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let have = s.distance(from: dot, to: s.endIndex) - 1
        if have < decimals { s += String(repeating: "0", count: decimals - have) }
        if decimals == 0 { s = String(s[..<dot]) }
    }
    if s.count < width { s = String(repeating: " ", count: width - s.count) + s }
    return s
}
