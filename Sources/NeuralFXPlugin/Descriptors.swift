import CLV2
import Glibc
import NeuralFXCore
import NeuralFXLive

// The C face of the plugin: one LV2_Descriptor per PluginKind, built on the
// host's first call (discovery, never real time) and kept for the process.

private let descriptors: [UnsafeMutablePointer<LV2_Descriptor>] = PluginKind.all.map { kind in
    let d = UnsafeMutablePointer<LV2_Descriptor>.allocate(capacity: 1)
    d.initialize(to: LV2_Descriptor(URI: UnsafePointer(strdup(kind.uri)), instantiate: instantiate, connect_port: connectPort,
                                    activate: activate, run: run, deactivate: nil, cleanup: cleanup, extension_data: extensionData))
    return d
}

@_cdecl("lv2_descriptor")
public func lv2_descriptor(_ index: UInt32) -> UnsafePointer<LV2_Descriptor>? {
    Int(index) < descriptors.count ? UnsafePointer(descriptors[Int(index)]) : nil
}

private func instance(_ handle: LV2_Handle?) -> PluginInstance {
    Unmanaged<PluginInstance>.fromOpaque(handle!).takeUnretainedValue()
}

private let instantiate: @convention(c) (UnsafePointer<LV2_Descriptor>?, Double, UnsafePointer<CChar>?,
                                         UnsafePointer<UnsafePointer<LV2_Feature>?>?) -> LV2_Handle? = {
    descriptor, rate, bundlePath, features in
    guard let descriptor, let index = descriptors.firstIndex(where: { UnsafePointer($0) == descriptor }) else { return nil }
    let host = HostFeatures(features)
    let kind = PluginKind.all[index]
    guard rate.isFinite, rate >= 1000, rate <= 1_536_000, rate == rate.rounded() else {
        host.report("\(kind.name) cannot run at a sample rate of \(rate) Hz")
        return nil
    }
    let sampleRate = Int(rate)
    let loader = ModelLoader(kind: kind, sampleRate: sampleRate, host: host)
    let initial: EngineSet
    let defaults: [Double]
    switch kind.effect {
    case .bundled(let file):
        let folder = bundlePath.map { String(cString: $0) } ?? "."
        let path = folder.hasSuffix("/") ? folder + file : folder + "/" + file
        do {
            let model = try ModelLoader.readModel(path)
            defaults = model.knobs.defaults
            var controls = ControlSnapshot()
            for (i, v) in defaults.prefix(ControlSnapshot.knobCapacity).enumerated() { controls[i] = v }
            initial = try loader.engineSet(for: model, controls: controls)
        } catch {
            host.report("\(kind.name) cannot load its bundled model: \(error)")
            return nil
        }
    case .loader:
        defaults = Array(repeating: 0.5, count: PluginKind.loaderKnobCount)
        initial = loader.passthroughSet(controls: ControlSnapshot())
        if host.schedule == nil {
            host.report("\(kind.name): this host offers no worker, so a model file can only come from saved state", error: false)
        }
    }
    let plugin = PluginInstance(kind: kind, sampleRate: sampleRate, initial: initial, knobDefaults: defaults, host: host,
                                loader: loader)
    loader.processor = plugin.processor
    return Unmanaged.passRetained(plugin).toOpaque()
}

private let connectPort: @convention(c) (LV2_Handle?, UInt32, UnsafeMutableRawPointer?) -> Void = { handle, port, data in
    instance(handle).connect(port: Int(port), to: data)
}

private let activate: @convention(c) (LV2_Handle?) -> Void = { handle in
    instance(handle).activate()
}

private let run: @convention(c) (LV2_Handle?, UInt32) -> Void = { handle, frames in
    instance(handle).run(Int(frames))
}

private let cleanup: @convention(c) (LV2_Handle?) -> Void = { handle in
    Unmanaged<PluginInstance>.fromOpaque(handle!).release()
}

private let workerInterface: UnsafeMutablePointer<LV2_Worker_Interface> = {
    let p = UnsafeMutablePointer<LV2_Worker_Interface>.allocate(capacity: 1)
    p.initialize(to: LV2_Worker_Interface(
        work: { handle, respond, respondHandle, size, data in
            guard let data else { return LV2_WORKER_ERR_UNKNOWN }
            return instance(handle).loader.work(data, size: Int(size), respond: respond, handle: respondHandle)
        },
        work_response: { handle, size, data in
            guard let data else { return LV2_WORKER_ERR_UNKNOWN }
            instance(handle).workResponse(data, size: Int(size))
            return LV2_WORKER_SUCCESS
        },
        end_run: nil))
    return p
}()

private let stateInterface: UnsafeMutablePointer<LV2_State_Interface> = {
    let p = UnsafeMutablePointer<LV2_State_Interface>.allocate(capacity: 1)
    p.initialize(to: LV2_State_Interface(
        save: { handle, store, storeHandle, _, features in
            instance(handle).saveState(store: store, handle: storeHandle, features: features)
        },
        restore: { handle, retrieve, retrieveHandle, _, features in
            instance(handle).restoreState(retrieve: retrieve, handle: retrieveHandle, features: features)
        }))
    return p
}()

// Every plugin answers for both; the bundled ones have nothing to save and
// no work to do, and say so by returning early.
private let extensionData: @convention(c) (UnsafePointer<CChar>?) -> UnsafeRawPointer? = { uri in
    guard let uri else { return nil }
    if strcmp(uri, LV2.workerInterface) == 0 { return UnsafeRawPointer(workerInterface) }
    if strcmp(uri, LV2.stateInterface) == 0 { return UnsafeRawPointer(stateInterface) }
    return nil
}
