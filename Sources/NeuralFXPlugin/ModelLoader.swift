import CLV2
import Glibc
import NeuralFXCore
import NeuralFXLive
import NeuralFXModelFiles
import Synchronization

/// Gets models into a running instance without the audio thread waiting on
/// anything: the audio thread writes a request into memory reserved at
/// instantiation and schedules it; the worker (or state restore) reads the
/// file, builds the engine set at the controls' values and installs it; the
/// answer carries the path back for the host's file chooser.
///
/// A file that cannot be loaded leaves the plugin passing audio through
/// (gains and bypass still apply), says why once, and keeps its path so a
/// saved project still names it.
final class ModelLoader: @unchecked Sendable {
    let kind: PluginKind
    let sampleRate: Int
    let host: HostFeatures
    /// Set once by the instance, right after it made the processor.
    var processor: LiveProcessor!

    /// Paths longer than this are refused (the request lives in fixed memory).
    static let maxPathBytes = 4096
    private enum Request: UInt32 { case load = 1, collect = 2 }
    private static let headerBytes = 8 + MemoryLayout<ControlSnapshot>.stride

    private let request: UnsafeMutableRawPointer
    /// The model file path the host's notify port should show (audio thread).
    private let notifyPath: UnsafeMutablePointer<CChar>
    private var notifyLength = 0
    private var notifyPending = false
    /// The file asked for last, loaded or not: what state saves.
    private let path = Mutex<String?>(nil)
    /// The worker and state restore may both free retired engine sets; the
    /// processor's ring has room for one consumer at a time.
    private let collector = Mutex<Void>(())

    init(kind: PluginKind, sampleRate: Int, host: HostFeatures) {
        self.kind = kind
        self.sampleRate = sampleRate
        self.host = host
        request = .allocate(byteCount: Self.headerBytes + Self.maxPathBytes + 1, alignment: 16)
        notifyPath = .allocate(capacity: Self.maxPathBytes + 1)
    }

    deinit {
        request.deallocate()
        notifyPath.deallocate()
    }

    var currentPath: String? { path.withLock { $0 } }

    /// The engine set for `model` at the controls' values: the loader's knob
    /// ports are normalized, the bundled plugins' are in the knobs' units.
    func engineSet(for model: EffectModel, controls: ControlSnapshot) throws -> EngineSet {
        var values: [String: Double] = [:]
        for (i, k) in model.knobs.knobs.prefix(kind.isLoader ? PluginKind.loaderKnobCount : ControlSnapshot.knobCapacity).enumerated() {
            let v = controls[i]
            if !kind.isLoader { values[k.name] = v; continue }
            let x = min(max(v, 0), 1)
            values[k.name] = k.isSwitch ? (x * Double(k.positions.count - 1)).rounded() : k.minimum + x * (k.maximum - k.minimum)
        }
        return try EngineSet(model: model, channels: kind.channels, streamRate: sampleRate, maxBlockSize: PluginInstance.engineBlock,
                         knobValues: values, inputGainDecibels: controls.inputGain, outputGainDecibels: controls.outputGain,
                         midiMap: MidiMap())
    }

    /// What the loader plays with no model: the identity, at the host's rate.
    static func passthrough(sampleRate: Int) -> EffectModel {
        EffectModel(name: "passthrough", blueprint: NAMLinearBlueprint(taps: [1], bias: nil),
                    sampleRate: Double(sampleRate), knobs: .empty)
    }

    /// The pass-through's engine set. It runs at the host's rate, so there is
    /// no rate conversion that could fail.
    func passthroughSet(controls: ControlSnapshot) -> EngineSet {
        do {
            return try engineSet(for: Self.passthrough(sampleRate: sampleRate), controls: controls)
        } catch {
            preconditionFailure("the pass-through needs no rate conversion: \(error)")
        }
    }

    /// Reads `file`, builds its engine set and installs it; on failure
    /// installs the pass-through and reports why. Not on the audio thread.
    @discardableResult
    func load(_ file: String, controls: ControlSnapshot) -> Bool {
        path.withLock { $0 = file }
        collectRetired()
        do {
            let model = try Self.readModel(file)
            install(try engineSet(for: model, controls: controls))
            return true
        } catch {
            host.report("\(kind.name): cannot load the model: \(error); passing audio through")
            install(passthroughSet(controls: controls))
            return false
        }
    }

    func collectRetired() { collector.withLock { _ in processor.collectRetired() } }

    private func install(_ set: EngineSet) {
        if !processor.install(set) { host.report("\(kind.name): model switch queue full; the model was not installed") }
    }

    /// Only regular files are read: a FIFO or a device would block the
    /// worker or never end.
    static func readModel(_ file: String) throws -> EffectModel {
        guard !file.isEmpty else { throw ModelFileError("", "no model file named (an empty path)") }
        var info = stat()
        guard stat(file, &info) == 0 else { throw ModelFileError(file, String(cString: strerror(errno)).lowercased()) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ModelFileError(file, "is not a regular file") }
        return try ModelFile.load(path: file)
    }

    // MARK: Audio thread

    /// Asks the worker to load the file `text` names (`length` bytes).
    func requestLoad(path text: UnsafePointer<CChar>, length: Int, controls: ControlSnapshot) {
        guard let schedule = host.schedule else { return }
        let n = min(length, Self.maxPathBytes)
        request.storeBytes(of: Request.load.rawValue, as: UInt32.self)
        request.storeBytes(of: UInt32(n), toByteOffset: 4, as: UInt32.self)
        request.storeBytes(of: controls, toByteOffset: 8, as: ControlSnapshot.self)
        (request + Self.headerBytes).copyMemory(from: text, byteCount: n)
        _ = schedule.pointee.schedule_work(schedule.pointee.handle, UInt32(Self.headerBytes + n), request)
    }

    /// Asks the worker to free the engine sets the processor retired.
    func requestCollect() {
        guard let schedule = host.schedule else { return }
        var word = Request.collect.rawValue
        _ = schedule.pointee.schedule_work(schedule.pointee.handle, 4, &word)
    }

    /// The worker's answer: the path of the file it loaded (or tried).
    func receiveResponse(_ data: UnsafeRawPointer, size: Int) {
        let n = min(size, Self.maxPathBytes)
        UnsafeMutableRawPointer(notifyPath).copyMemory(from: data, byteCount: n)
        notifyPath[n] = 0
        notifyLength = n
        notifyPending = true
    }

    func notifyCurrentPath() { notifyPending = notifyLength > 0 }

    func takeNotification(_ write: (UnsafePointer<CChar>, Int) -> Void) {
        guard notifyPending else { return }
        notifyPending = false
        write(notifyPath, notifyLength)
    }

    // MARK: Worker thread

    func work(_ data: UnsafeRawPointer, size: Int, respond: LV2_Worker_Respond_Function?,
              handle: LV2_Worker_Respond_Handle?) -> LV2_Worker_Status {
        guard size >= 4, let kind = Request(rawValue: data.loadUnaligned(as: UInt32.self)) else { return LV2_WORKER_ERR_UNKNOWN }
        switch kind {
        case .collect:
            collectRetired()
        case .load:
            guard size >= Self.headerBytes else { return LV2_WORKER_ERR_UNKNOWN }
            let n = min(Int(data.loadUnaligned(fromByteOffset: 4, as: UInt32.self)), size - Self.headerBytes)
            let controls = data.loadUnaligned(fromByteOffset: 8, as: ControlSnapshot.self)
            let bytes = UnsafeRawBufferPointer(start: data + Self.headerBytes, count: n)
            let file = String(decoding: bytes, as: UTF8.self)
            load(file, controls: controls)
            _ = respond?(handle, UInt32(n), data + Self.headerBytes)
        }
        return LV2_WORKER_SUCCESS
    }

    /// A path from saved state, loaded here: restore runs outside run() and
    /// never beside it (no threadSafeRestore), so it may also set what the
    /// notify port shows. The worker a host may hand restore is not used:
    /// jalv 1.6.6 hands one whose worker it never set up, and calling it
    /// crashes the host.
    func restore(_ file: String, controls: ControlSnapshot) {
        load(file, controls: controls)
        let n = min(file.utf8.count, Self.maxPathBytes)
        file.withCString { UnsafeMutableRawPointer(notifyPath).copyMemory(from: $0, byteCount: n) }
        notifyPath[n] = 0
        notifyLength = n
        notifyPending = true
    }
}
