import CLV2
import Glibc

/// What the host offered at instantiation, and the URIDs the plugin speaks.
/// Every feature is optional: without a URID map there is no file parameter
/// and no state; without a worker, models load only through restored state.
struct HostFeatures {
    var map: UnsafeMutablePointer<LV2_URID_Map>?
    var log: UnsafeMutablePointer<LV2_Log_Log>?
    var schedule: UnsafeMutablePointer<LV2_Worker_Schedule>?
    var uris: URIDs?

    init(_ features: UnsafePointer<UnsafePointer<LV2_Feature>?>?) {
        map = Self.find(LV2.uridMap, in: features)?.assumingMemoryBound(to: LV2_URID_Map.self)
        log = Self.find(LV2.logLog, in: features)?.assumingMemoryBound(to: LV2_Log_Log.self)
        schedule = Self.find(LV2.workerSchedule, in: features)?.assumingMemoryBound(to: LV2_Worker_Schedule.self)
        if let map { uris = URIDs(map) }
    }

    /// The data of feature `uri` in a NULL-terminated feature list.
    static func find(_ uri: String, in features: UnsafePointer<UnsafePointer<LV2_Feature>?>?) -> UnsafeMutableRawPointer? {
        guard let features else { return nil }
        var i = 0
        while let feature = features[i] {
            if let featureURI = feature.pointee.URI, strcmp(featureURI, uri) == 0 { return feature.pointee.data }
            i += 1
        }
        return nil
    }

    /// One line for the person running the host: through the host's log when
    /// it has one, else on standard error. Never from run().
    func report(_ message: String, error: Bool = true) {
        // Names from files and projects may hold control characters; the
        // message stays one line.
        let line = (message.hasPrefix("NeuralFX") ? "" : "NeuralFX: ") + String(String.UnicodeScalarView(message.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
        if let log, let uris {
            nfx_lv2_log(log, error ? uris.logError : uris.logWarning, line)
        } else {
            fputs(line + "\n", stderr)
        }
    }
}

struct URIDs {
    let atomPath, atomString, atomURID, atomObject, atomBlank, atomSequence: LV2_URID
    let patchSet, patchGet, patchProperty, patchValue: LV2_URID
    let modelFile: LV2_URID
    let logError, logWarning: LV2_URID

    init(_ map: UnsafeMutablePointer<LV2_URID_Map>) {
        func id(_ uri: String) -> LV2_URID { map.pointee.map(map.pointee.handle, uri) }
        atomPath = id(LV2.atomPath)
        atomString = id(LV2.atomString)
        atomURID = id(LV2.atomURID)
        atomObject = id(LV2.atomObject)
        atomBlank = id(LV2.atomBlank)
        atomSequence = id(LV2.atomSequence)
        patchSet = id(LV2.patchSet)
        patchGet = id(LV2.patchGet)
        patchProperty = id(LV2.patchProperty)
        patchValue = id(LV2.patchValue)
        modelFile = id(PluginKind.modelFileURI)
        logError = id(LV2.logError)
        logWarning = id(LV2.logWarning)
    }
}
