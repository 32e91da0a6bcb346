import CLV2
import Glibc
import NeuralFXCore
import NeuralFXLive

/// One instance of a plugin in a host.
///
/// `run()` reads the control ports, hands moved values straight to the
/// processor (smoothed by the engines as in fxhost), and renders; it
/// allocates nothing, takes no lock, logs nothing and touches no file. Models
/// are built off the audio thread (by the worker, by state restore, or at
/// instantiation for the bundled ones) and handed over through
/// `LiveProcessor.install`, which crossfades; the set they replace is freed
/// by the worker again.
final class PluginInstance {
    let kind: PluginKind
    let sampleRate: Int
    let ports: PluginKind.Ports
    let host: HostFeatures
    let processor: LiveProcessor
    /// Knob defaults, by port: the model's for bundled plugins, the middle of
    /// 0..1 for the loader's normalized knobs.
    let knobDefaults: [Double]
    let loader: ModelLoader

    private let buffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Values last handed to the processor: knobs, then input gain, output gain, enabled.
    private let applied: UnsafeMutablePointer<Double>
    private var latestSet: ObjectIdentifier?
    /// The loader's map of normalized knob ports onto the latest model's knobs.
    private let knobMinimum: UnsafeMutablePointer<Double>
    private let knobSpan: UnsafeMutablePointer<Double>
    private let knobSteps: UnsafeMutablePointer<Int>   // positions - 1 for a switch, 0 for a continuous knob
    private var knobsMapped = 0
    private var switchesSeen = 0
    private var forge = LV2_Atom_Forge()
    private let forgeFrame = UnsafeMutablePointer<LV2_Atom_Forge_Frame>.allocate(capacity: 1)
    private let allocationProbe = AllocationProbe()

    /// Engine sets take blocks up to this size; the processor splits longer ones.
    static let engineBlock = LiveProcessor.chunkFrames

    init(kind: PluginKind, sampleRate: Int, initial: EngineSet, knobDefaults: [Double], host: HostFeatures,
         loader: ModelLoader) {
        self.kind = kind
        self.sampleRate = sampleRate
        self.host = host
        self.knobDefaults = knobDefaults
        self.loader = loader
        ports = kind.ports(knobCount: knobDefaults.count)
        processor = LiveProcessor(initial: initial, sampleRate: Double(sampleRate))
        buffers = .allocate(capacity: ports.count)
        buffers.initialize(repeating: nil, count: ports.count)
        applied = .allocate(capacity: ports.knobs + 3)
        applied.initialize(repeating: .nan, count: ports.knobs + 3)
        knobMinimum = .allocate(capacity: ports.knobs)
        knobMinimum.initialize(repeating: 0, count: ports.knobs)
        knobSpan = .allocate(capacity: ports.knobs)
        knobSpan.initialize(repeating: 0, count: ports.knobs)
        knobSteps = .allocate(capacity: ports.knobs)
        knobSteps.initialize(repeating: 0, count: ports.knobs)
        forgeFrame.initialize(to: LV2_Atom_Forge_Frame())
        if let map = host.map { lv2_atom_forge_init(&forge, map) }
    }

    deinit {
        allocationProbe.writeReport(switches: processor.statistics.switches)
        processor.collectRetired()
        buffers.deallocate()
        applied.deallocate()
        knobMinimum.deallocate()
        knobSpan.deallocate()
        knobSteps.deallocate()
        forgeFrame.deallocate()
    }

    func connect(port: Int, to data: UnsafeMutableRawPointer?) {
        if port >= 0 && port < ports.count { buffers[port] = data }
    }

    private func control(_ port: Int, default value: Double) -> Double {
        guard let p = buffers[port] else { return value }
        let v = Double(p.assumingMemoryBound(to: Float.self).pointee)
        return v.isFinite ? v : value
    }

    /// The values of the knob ports now (normalized for the loader), and the gains.
    func controlSnapshot() -> ControlSnapshot {
        var snapshot = ControlSnapshot()
        for i in 0..<min(ports.knobs, ControlSnapshot.knobCapacity) { snapshot[i] = control(ports.knob(i), default: knobDefaults[i]) }
        snapshot.inputGain = control(ports.inputGain, default: 0)
        snapshot.outputGain = control(ports.outputGain, default: 0)
        return snapshot
    }

    /// Whether audio went through since instantiation or the last activate().
    private var ran = false

    /// activate() starts processing afresh: a host calls it after
    /// deactivate() (a stop, a reset), and no tail of what played before may
    /// sound. The model in force is rebuilt at the controls' values; run()
    /// does not run meanwhile.
    func activate() {
        guard ran else { return }
        ran = false
        let model = processor.latestEngineSet.model
        // It played at this rate before, so its rate conversion is possible.
        if let set = try? loader.engineSet(for: model, controls: controlSnapshot()) { processor.replaceWhileStopped(with: set) }
        latestSet = nil
    }

    // MARK: Audio thread

    func run(_ frameCount: Int) {
        allocationProbe.begin()
        defer { allocationProbe.end() }
        if ports.hasAtomPorts { readControlEvents() }
        processor.beginCycle()
        applyControls()
        var connected = true
        for c in 0..<ports.channels {
            guard let input = buffers[ports.audioIn(c)], let output = buffers[ports.audioOut(c)] else { connected = false; break }
            processor.inputs[c] = UnsafePointer(input.assumingMemoryBound(to: Float.self))
            processor.outputs[c] = output.assumingMemoryBound(to: Float.self)
        }
        if connected && frameCount > 0 {
            processor.render(offset: 0, frameCount: frameCount)
            ran = true
        }
        if let latency = buffers[ports.latency] {
            latency.assumingMemoryBound(to: Float.self).pointee = Float(processor.latestEngineSet.latencyFrames)
        }
        let switches = processor.statistics.switches
        if switches != switchesSeen {
            switchesSeen = switches
            // The replaced engine set is freed off this thread.
            loader.requestCollect()
        }
        if ports.hasAtomPorts { writeNotifications() }
    }

    /// Hands every control that moved to the processor; all of them when a
    /// new model became the one the controls drive.
    private func applyControls() {
        let set = processor.latestEngineSet
        let id = ObjectIdentifier(set)
        let everything = id != latestSet
        if everything {
            latestSet = id
            if kind.isLoader { mapKnobs(of: set.model.knobs) }
        }
        for i in 0..<ports.knobs {
            let v = control(ports.knob(i), default: knobDefaults[i])
            if everything || v != applied[i] {
                applied[i] = v
                if kind.isLoader {
                    if i < knobsMapped { processor.setKnobOnAudioThread(i, to: knobValue(i, normalized: v)) }
                } else {
                    processor.setKnobOnAudioThread(i, to: v)
                }
            }
        }
        let gains = PluginKind.gainRange
        let inputGain = min(max(control(ports.inputGain, default: 0), gains.lowerBound), gains.upperBound)
        if everything || inputGain != applied[ports.knobs] {
            applied[ports.knobs] = inputGain
            processor.setInputGainOnAudioThread(decibels: inputGain)
        }
        let outputGain = min(max(control(ports.outputGain, default: 0), gains.lowerBound), gains.upperBound)
        if everything || outputGain != applied[ports.knobs + 1] {
            applied[ports.knobs + 1] = outputGain
            processor.setOutputGainOnAudioThread(decibels: outputGain)
        }
        let enabled = control(ports.enabled, default: 1) >= 0.5 ? 1.0 : 0.0
        if enabled != applied[ports.knobs + 2] {
            applied[ports.knobs + 2] = enabled
            processor.setBypassOnAudioThread(enabled == 0)
        }
    }

    private func mapKnobs(of schema: KnobSchema) {
        knobsMapped = min(schema.count, ports.knobs)
        for i in 0..<knobsMapped {
            let k = schema.knobs[i]
            knobMinimum[i] = k.minimum
            knobSpan[i] = k.maximum - k.minimum
            knobSteps[i] = k.isSwitch ? k.positions.count - 1 : 0
        }
    }

    /// A loader knob port's 0..1 in the model knob's own range; a switch
    /// takes the nearest of its positions spread evenly over 0..1.
    private func knobValue(_ i: Int, normalized v: Double) -> Double {
        let x = min(max(v, 0), 1)
        if knobSteps[i] > 0 { return (x * Double(knobSteps[i])).rounded() }
        return knobMinimum[i] + x * knobSpan[i]
    }

    /// patch:Set of the model file asks the worker to load it; patch:Get asks
    /// for the current file on the notify port.
    private func readControlEvents() {
        guard let uris = host.uris, let buffer = buffers[ports.control] else { return }
        let sequence = UnsafePointer(buffer.assumingMemoryBound(to: LV2_Atom_Sequence.self))
        var event = nfx_sequence_first(sequence)
        while let ev = event {
            let object = nfx_event_object(ev)!
            let type = object.pointee.atom.type
            if type == uris.atomObject || type == uris.atomBlank {
                let otype = object.pointee.body.otype
                if otype == uris.patchSet {
                    if let property = nfx_object_property(object, uris.patchProperty), property.pointee.type == uris.atomURID,
                       UnsafeRawPointer(property).load(fromByteOffset: 8, as: LV2_URID.self) == uris.modelFile,
                       let value = nfx_object_property(object, uris.patchValue),
                       value.pointee.type == uris.atomPath || value.pointee.type == uris.atomString {
                        let text = nfx_atom_string(value)!
                        loader.requestLoad(path: text, length: strnlen(text, Int(value.pointee.size)), controls: controlSnapshot())
                    }
                } else if otype == uris.patchGet {
                    loader.notifyCurrentPath()
                }
            }
            event = nfx_sequence_next(sequence, ev)
        }
    }

    private func writeNotifications() {
        guard let uris = host.uris, let buffer = buffers[ports.notify] else { return }
        let sequence = buffer.assumingMemoryBound(to: LV2_Atom_Sequence.self)
        guard nfx_forge_begin_sequence(&forge, sequence, forgeFrame) != 0 else { return }
        loader.takeNotification { path, length in
            _ = nfx_forge_patch_set_path(&forge, 0, uris.patchSet, uris.patchProperty, uris.patchValue, uris.modelFile,
                                         path, UInt32(length))
        }
        lv2_atom_forge_pop(&forge, forgeFrame)
    }

    /// The worker's answer, on the audio thread.
    func workResponse(_ data: UnsafeRawPointer, size: Int) {
        allocationProbe.begin()
        defer { allocationProbe.end() }
        loader.receiveResponse(data, size: size)
    }
}

/// Knob port values (normalized for the loader) and gains at one moment, for
/// building an engine set that starts where the controls are.
struct ControlSnapshot {
    static let knobCapacity = 16
    var knobs: (Double, Double, Double, Double, Double, Double, Double, Double,
                Double, Double, Double, Double, Double, Double, Double, Double) =
        (0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
    var inputGain = 0.0
    var outputGain = 0.0

    subscript(i: Int) -> Double {
        get { withUnsafeBytes(of: knobs) { $0.load(fromByteOffset: i * 8, as: Double.self) } }
        set { withUnsafeMutableBytes(of: &knobs) { $0.storeBytes(of: newValue, toByteOffset: i * 8, as: Double.self) } }
    }
}
