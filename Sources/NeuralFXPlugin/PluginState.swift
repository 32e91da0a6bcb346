import CLV2
import Glibc

/// The loader's state: the model file's path, stored as an atom:Path through
/// the host's path mapping so a project moves between machines with its
/// files. A restored path that no longer loads is kept, so saving the
/// project again does not lose it.
extension PluginInstance {
    func saveState(store: LV2_State_Store_Function?, handle: LV2_State_Handle?,
                   features: UnsafePointer<UnsafePointer<LV2_Feature>?>?) -> LV2_State_Status {
        guard kind.isLoader, let store, let uris = host.uris else { return LV2_STATE_SUCCESS }
        guard let file = loader.currentPath else { return LV2_STATE_SUCCESS }
        let mapPath = HostFeatures.find(LV2.stateMapPath, in: features)?.assumingMemoryBound(to: LV2_State_Map_Path.self)
        let freePath = HostFeatures.find(LV2.stateFreePath, in: features)?.assumingMemoryBound(to: LV2_State_Free_Path.self)
        let abstract: UnsafeMutablePointer<CChar>? = mapPath.flatMap { $0.pointee.abstract_path($0.pointee.handle, file) }
        defer {
            if let abstract {
                if let freePath { freePath.pointee.free_path(freePath.pointee.handle, abstract) } else { free(abstract) }
            }
        }
        let flags = UInt32(LV2_STATE_IS_POD.rawValue | LV2_STATE_IS_PORTABLE.rawValue)
        if let abstract {
            return store(handle, uris.modelFile, abstract, strlen(abstract) + 1, uris.atomPath, flags)
        }
        return file.withCString { store(handle, uris.modelFile, $0, strlen($0) + 1, uris.atomPath, flags) }
    }

    func restoreState(retrieve: LV2_State_Retrieve_Function?, handle: LV2_State_Handle?,
                      features: UnsafePointer<UnsafePointer<LV2_Feature>?>?) -> LV2_State_Status {
        guard kind.isLoader, let retrieve, let uris = host.uris else { return LV2_STATE_SUCCESS }
        var size = 0
        var type: UInt32 = 0
        var flags: UInt32 = 0
        guard let value = retrieve(handle, uris.modelFile, &size, &type, &flags) else { return LV2_STATE_SUCCESS }
        guard type == uris.atomPath || type == uris.atomString else {
            host.report("\(kind.name): the saved state holds a model file that is not a path; ignored")
            return LV2_STATE_ERR_BAD_TYPE
        }
        let text = value.assumingMemoryBound(to: CChar.self)
        let stored = String(decoding: UnsafeRawBufferPointer(start: value, count: strnlen(text, size)), as: UTF8.self)
        let mapPath = HostFeatures.find(LV2.stateMapPath, in: features)?.assumingMemoryBound(to: LV2_State_Map_Path.self)
        var file = stored
        if let mapPath, let absolute = mapPath.pointee.absolute_path(mapPath.pointee.handle, stored) {
            file = String(cString: absolute)
            let freePath = HostFeatures.find(LV2.stateFreePath, in: features)?.assumingMemoryBound(to: LV2_State_Free_Path.self)
            if let freePath { freePath.pointee.free_path(freePath.pointee.handle, absolute) } else { free(absolute) }
        }
        loader.restore(file, controls: controlSnapshot())
        return LV2_STATE_SUCCESS
    }
}
