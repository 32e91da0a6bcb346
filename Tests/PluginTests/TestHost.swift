import CAllocationCounter
import CLV2
import Foundation

/// A minimal LV2 host inside the test process, for what Debian's hosts
/// cannot do headless: send the file parameter (patch:Set), choose which
/// features to offer (worker, URID map, path mapping), run any block size,
/// save and restore state. It runs the worker itself between run() calls,
/// and counts heap operations inside run() and work_response() (this test
/// binary links the allocation counter, which interposes malloc).
final class TestHost {
    enum Feature: Hashable { case map, worker, mapPath }

    /// Port indices of the bundle's layout (lv2info's test checks the symbols).
    struct Ports {
        let channels: Int
        let knobs: Int
        func audioIn(_ c: Int) -> Int { c }
        func audioOut(_ c: Int) -> Int { channels + c }
        func knob(_ i: Int) -> Int { 2 * channels + i }
        var inputGain: Int { 2 * channels + knobs }
        var outputGain: Int { inputGain + 1 }
        var enabled: Int { inputGain + 2 }
        var latency: Int { inputGain + 3 }
        var control: Int { inputGain + 4 }
        var notify: Int { inputGain + 5 }
    }

    static let maxBlock = 8192
    static let atomCapacity = 16384
    let ports: Ports
    let isLoader: Bool
    let uris = URIDTable()
    private(set) var allocations: Int64 = 0
    private(set) var runCalls = 0
    /// How long instantiate() took (for the bundled plugins: reading and preparing the model).
    private(set) var instantiateSeconds = 0.0
    /// Without a URID map the plugin cannot write atoms: the notify port is not read then.
    private let mapsURIDs: Bool

    private let descriptor: UnsafePointer<LV2_Descriptor>
    private var handle: LV2_Handle?
    private let controls: UnsafeMutablePointer<Float>
    private let audio: [UnsafeMutablePointer<Float>]
    private let controlAtoms: UnsafeMutableRawPointer
    private let notifyAtoms: UnsafeMutableRawPointer
    private var forge = LV2_Atom_Forge()
    private let forgeFrame = UnsafeMutablePointer<LV2_Atom_Forge_Frame>.allocate(capacity: 1)
    private let workQueue = WorkQueue()
    private var featureStorage: [UnsafeMutableRawPointer] = []
    private let featureList: UnsafeMutablePointer<UnsafePointer<LV2_Feature>?>
    let pathMapper: PathMapper
    private var mapFeature = LV2_URID_Map()
    private var scheduleFeature = LV2_Worker_Schedule()

    init(uri: String, sampleRate: Double, features: Set<Feature> = [.map, .worker], projectDirectory: String = "/") throws {
        guard let library = dlopen(Built.bundle + "/neuralfx.so", RTLD_NOW) else {
            throw SetupFailure("dlopen: " + String(cString: dlerror()))
        }
        typealias Entry = @convention(c) (UInt32) -> UnsafePointer<LV2_Descriptor>?
        let entry = unsafeBitCast(dlsym(library, "lv2_descriptor"), to: Entry.self)
        var found: UnsafePointer<LV2_Descriptor>?
        var i: UInt32 = 0
        while let d = entry(i) {
            if String(cString: d.pointee.URI) == uri { found = d }
            i += 1
        }
        guard let found else { throw SetupFailure("no plugin \(uri)") }
        descriptor = found
        isLoader = uri.contains("/model")
        mapsURIDs = features.contains(.map)
        let channels = uri.hasSuffix("-stereo") ? 2 : 1
        ports = Ports(channels: channels, knobs: isLoader ? 8 : uri.contains("compressor") ? 2 : 3)
        pathMapper = PathMapper(projectDirectory: projectDirectory)

        controls = .allocate(capacity: 64)
        controls.initialize(repeating: 0, count: 64)
        audio = (0..<(2 * channels)).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Self.maxBlock)
            p.initialize(repeating: 0, count: Self.maxBlock)
            return p
        }
        controlAtoms = .allocate(byteCount: Self.atomCapacity, alignment: 8)
        notifyAtoms = .allocate(byteCount: Self.atomCapacity, alignment: 8)

        var list: [UnsafePointer<LV2_Feature>] = []
        func offer(_ uri: String, _ data: UnsafeMutableRawPointer) {
            let f = UnsafeMutablePointer<LV2_Feature>.allocate(capacity: 1)
            f.initialize(to: LV2_Feature(URI: UnsafePointer(strdup(uri)), data: data))
            featureStorage.append(UnsafeMutableRawPointer(f))
            list.append(UnsafePointer(f))
        }
        featureList = .allocate(capacity: 8)
        mapFeature = LV2_URID_Map(handle: Unmanaged.passUnretained(uris).toOpaque(), map: { h, uri in
            Unmanaged<URIDTable>.fromOpaque(h!).takeUnretainedValue().map(String(cString: uri!))
        })
        scheduleFeature = LV2_Worker_Schedule(handle: Unmanaged.passUnretained(workQueue).toOpaque(), schedule_work: { h, size, data in
            Unmanaged<WorkQueue>.fromOpaque(h!).takeUnretainedValue().push(size: Int(size), data!)
        })
        if features.contains(.map) { offer("http://lv2plug.in/ns/ext/urid#map", withUnsafeMutablePointer(to: &mapFeature) { UnsafeMutableRawPointer($0) }) }
        if features.contains(.worker) {
            offer("http://lv2plug.in/ns/ext/worker#schedule", withUnsafeMutablePointer(to: &scheduleFeature) { UnsafeMutableRawPointer($0) })
        }
        for (k, f) in list.enumerated() { featureList[k] = f }
        featureList[list.count] = nil
        withUnsafeMutablePointer(to: &mapFeature) { lv2_atom_forge_init(&forge, $0) }

        let start = DispatchTime.now().uptimeNanoseconds
        handle = descriptor.pointee.instantiate(descriptor, sampleRate, Built.bundle + "/", featureList)
        instantiateSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        guard handle != nil else { throw SetupFailure("instantiate returned NULL") }
        let portCount = ports.inputGain + (isLoader ? 6 : 4)
        for p in 0..<portCount {
            if p < 2 * channels {
                descriptor.pointee.connect_port(handle, UInt32(p), audio[p])
            } else if isLoader && p == ports.control {
                descriptor.pointee.connect_port(handle, UInt32(p), controlAtoms)
            } else if isLoader && p == ports.notify {
                descriptor.pointee.connect_port(handle, UInt32(p), notifyAtoms)
            } else {
                descriptor.pointee.connect_port(handle, UInt32(p), controls + p)
            }
        }
        // Port defaults: knobs at their Turtle defaults, gains 0 dB, enabled.
        controls[ports.enabled] = 1
        if isLoader { for k in 0..<8 { controls[ports.knob(k)] = 0.5 } }
        else if ports.knobs == 2 { controls[ports.knob(0)] = 0; controls[ports.knob(1)] = 0.5 }
        else { for k in 0..<3 { controls[ports.knob(k)] = 0.5 } }
        clearControlAtoms()
    }

    deinit {
        if let handle { descriptor.pointee.cleanup(handle) }
        controls.deallocate()
        audio.forEach { $0.deallocate() }
        controlAtoms.deallocate()
        notifyAtoms.deallocate()
        forgeFrame.deallocate()
        featureList.deallocate()
    }

    /// What a host does on stop and restart (and before the first run()).
    func reactivate() {
        descriptor.pointee.deactivate?(handle)
        descriptor.pointee.activate?(handle)
    }

    func set(_ port: Int, _ value: Float) { controls[port] = value }
    func control(_ port: Int) -> Float { controls[port] }
    var latency: Int { Int(controls[ports.latency]) }

    private func clearControlAtoms() {
        let seq = controlAtoms.assumingMemoryBound(to: LV2_Atom_Sequence.self)
        seq.pointee.atom.size = UInt32(MemoryLayout<LV2_Atom_Sequence_Body>.size)
        seq.pointee.atom.type = uris.map("http://lv2plug.in/ns/ext/atom#Sequence")
        seq.pointee.body = LV2_Atom_Sequence_Body(unit: 0, pad: 0)
    }

    /// Queues patch:Set of the model file for the next run().
    func sendModelFile(_ path: String) {
        lv2_atom_forge_set_buffer(&forge, controlAtoms.assumingMemoryBound(to: UInt8.self), Self.atomCapacity)
        _ = lv2_atom_forge_sequence_head(&forge, forgeFrame, 0)
        _ = path.withCString {
            nfx_forge_patch_set_path(&forge, 0, uris.map("http://lv2plug.in/ns/ext/patch#Set"),
                                     uris.map("http://lv2plug.in/ns/ext/patch#property"),
                                     uris.map("http://lv2plug.in/ns/ext/patch#value"),
                                     uris.map("http://neuralfx.dev/lv2/model#file"), $0, UInt32(strlen($0)))
        }
        lv2_atom_forge_pop(&forge, forgeFrame)
    }

    /// Queues patch:Get (what a host's UI sends when it opens) for the next run().
    func sendPatchGet() {
        lv2_atom_forge_set_buffer(&forge, controlAtoms.assumingMemoryBound(to: UInt8.self), Self.atomCapacity)
        _ = lv2_atom_forge_sequence_head(&forge, forgeFrame, 0)
        let object = UnsafeMutablePointer<LV2_Atom_Forge_Frame>.allocate(capacity: 1)
        defer { object.deallocate() }
        _ = lv2_atom_forge_frame_time(&forge, 0)
        _ = lv2_atom_forge_object(&forge, object, 0, uris.map("http://lv2plug.in/ns/ext/patch#Get"))
        lv2_atom_forge_pop(&forge, object)
        lv2_atom_forge_pop(&forge, forgeFrame)
    }

    /// Paths the plugin announced on its notify port so far.
    private(set) var notifiedPaths: [String] = []

    /// Runs `input` (one array per channel) through in blocks of `blockSize`,
    /// running the worker between blocks as a host's worker thread would.
    func process(_ input: [[Float]], blockSize: Int) -> [[Float]] {
        precondition(blockSize <= Self.maxBlock)
        let frames = input[0].count
        var output = [[Float]](repeating: [Float](repeating: 0, count: frames), count: ports.channels)
        var done = 0
        while done < frames {
            let n = min(blockSize, frames - done)
            for c in 0..<ports.channels { input[c].withUnsafeBufferPointer { audio[c].update(from: $0.baseAddress! + done, count: n) } }
            runOnce(n)
            for c in 0..<ports.channels {
                output[c].withUnsafeMutableBufferPointer { ($0.baseAddress! + done).update(from: audio[ports.audioOut(c)], count: n) }
            }
            done += n
        }
        return output
    }

    private func runOnce(_ n: Int) {
        if isLoader {
            notifyAtoms.assumingMemoryBound(to: LV2_Atom.self).pointee.size = UInt32(Self.atomCapacity - 8)
        }
        nfx_allocation_counting_begin()
        descriptor.pointee.run(handle, UInt32(n))
        allocations += nfx_allocation_counting_end()
        runCalls += 1
        if isLoader {
            clearControlAtoms()
            if mapsURIDs { readNotifications() }
        }
        serviceWorker()
    }

    private func readNotifications() {
        let seq = UnsafePointer(notifyAtoms.assumingMemoryBound(to: LV2_Atom_Sequence.self))
        var event = nfx_sequence_first(seq)
        while let ev = event {
            let object = nfx_event_object(ev)!
            if let value = nfx_object_property(object, uris.map("http://lv2plug.in/ns/ext/patch#value")) {
                notifiedPaths.append(String(cString: nfx_atom_string(value)))
            }
            event = nfx_sequence_next(seq, ev)
        }
    }

    /// Runs queued work, then hands the responses back outside run().
    private func serviceWorker() {
        guard let worker = extensionData("http://lv2plug.in/ns/ext/worker#interface")?
            .assumingMemoryBound(to: LV2_Worker_Interface.self) else { return }
        for request in workQueue.take() {
            request.withUnsafeBytes { bytes in
                _ = worker.pointee.work(handle, { h, size, data in
                    Unmanaged<WorkQueue>.fromOpaque(h!).takeUnretainedValue()
                        .responses.append(Data(bytes: data!, count: Int(size)))
                    return LV2_WORKER_SUCCESS
                }, Unmanaged.passUnretained(workQueue).toOpaque(), UInt32(bytes.count), bytes.baseAddress)
            }
        }
        let responses = workQueue.responses
        workQueue.responses = []
        for response in responses {
            response.withUnsafeBytes { bytes in
                nfx_allocation_counting_begin()
                _ = worker.pointee.work_response(handle, UInt32(bytes.count), bytes.baseAddress)
                allocations += nfx_allocation_counting_end()
            }
        }
    }

    private func extensionData(_ uri: String) -> UnsafeRawPointer? { descriptor.pointee.extension_data(uri) }

    /// The plugin's saved properties: key URI -> (type URI, value bytes).
    func save() -> [String: (type: String, value: Data)] {
        guard let state = extensionData("http://lv2plug.in/ns/ext/state#interface")?
            .assumingMemoryBound(to: LV2_State_Interface.self) else { return [:] }
        let store = StateStore(uris: uris)
        let features = pathMapper.features()
        _ = state.pointee.save(handle, { h, key, value, size, type, _ in
            let s = Unmanaged<StateStore>.fromOpaque(h!).takeUnretainedValue()
            s.values[s.uris.unmap(key)] = (s.uris.unmap(type), Data(bytes: value!, count: size))
            return LV2_STATE_SUCCESS
        }, Unmanaged.passUnretained(store).toOpaque(), 0, features)
        return store.values
    }

    func restore(_ values: [String: (type: String, value: Data)]) {
        guard let state = extensionData("http://lv2plug.in/ns/ext/state#interface")?
            .assumingMemoryBound(to: LV2_State_Interface.self) else { return }
        let store = StateStore(uris: uris)
        store.values = values
        let features = pathMapper.features()
        _ = state.pointee.restore(handle, { h, key, size, type, flags in
            let s = Unmanaged<StateStore>.fromOpaque(h!).takeUnretainedValue()
            guard let entry = s.values[s.uris.unmap(key)] else { return nil }
            s.retrieved = entry.value + Data([0])
            size?.pointee = entry.value.count
            type?.pointee = s.uris.map(entry.type)
            flags?.pointee = 0
            return s.retrieved.withUnsafeBytes { UnsafeRawPointer($0.baseAddress!) }
        }, Unmanaged.passUnretained(store).toOpaque(), 0, features)
    }
}

final class URIDTable {
    private var ids: [String: LV2_URID] = [:]
    private var names: [String] = []
    func map(_ uri: String) -> LV2_URID {
        if let id = ids[uri] { return id }
        names.append(uri)
        ids[uri] = LV2_URID(names.count)
        return LV2_URID(names.count)
    }
    func unmap(_ id: LV2_URID) -> String { id >= 1 && Int(id) <= names.count ? names[Int(id) - 1] : "" }
}

/// Work requests scheduled from run(): copied into memory reserved up front,
/// as a host's ring would (run() must not see an allocation).
final class WorkQueue {
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 8)
    private var used = 0
    private var sizes = UnsafeMutablePointer<Int>.allocate(capacity: 256)
    private var count = 0
    var responses: [Data] = []

    func push(size: Int, _ data: UnsafeRawPointer) -> LV2_Worker_Status {
        guard count < 256, used + size <= 1 << 16 else { return LV2_WORKER_ERR_NO_SPACE }
        (buffer + used).copyMemory(from: data, byteCount: size)
        used += size
        sizes[count] = size
        count += 1
        return LV2_WORKER_SUCCESS
    }

    func take() -> [Data] {
        var result: [Data] = []
        var offset = 0
        for i in 0..<count {
            result.append(Data(bytes: buffer + offset, count: sizes[i]))
            offset += sizes[i]
        }
        count = 0
        used = 0
        return result
    }
}

final class StateStore {
    let uris: URIDTable
    var values: [String: (type: String, value: Data)] = [:]
    var retrieved = Data()
    init(uris: URIDTable) { self.uris = uris }
}

/// state:mapPath for a project folder: paths inside it are saved relative to it.
final class PathMapper {
    let projectDirectory: String
    private var mapPath = LV2_State_Map_Path()
    private var feature = LV2_Feature()
    private let list = UnsafeMutablePointer<UnsafePointer<LV2_Feature>?>.allocate(capacity: 2)
    private let uri = strdup("http://lv2plug.in/ns/ext/state#mapPath")!

    init(projectDirectory: String) {
        self.projectDirectory = projectDirectory.hasSuffix("/") ? projectDirectory : projectDirectory + "/"
    }

    func features() -> UnsafePointer<UnsafePointer<LV2_Feature>?> {
        mapPath = LV2_State_Map_Path(handle: Unmanaged.passUnretained(self).toOpaque(), abstract_path: { h, path in
            let m = Unmanaged<PathMapper>.fromOpaque(h!).takeUnretainedValue()
            let p = String(cString: path!)
            return strdup(p.hasPrefix(m.projectDirectory) ? String(p.dropFirst(m.projectDirectory.count)) : p)
        }, absolute_path: { h, path in
            let m = Unmanaged<PathMapper>.fromOpaque(h!).takeUnretainedValue()
            let p = String(cString: path!)
            return strdup(p.hasPrefix("/") ? p : m.projectDirectory + p)
        })
        feature = withUnsafeMutablePointer(to: &mapPath) { LV2_Feature(URI: UnsafePointer(uri), data: UnsafeMutableRawPointer($0)) }
        list[0] = withUnsafeMutablePointer(to: &feature) { UnsafePointer($0) }
        list[1] = nil
        return UnsafePointer(list)
    }
}
