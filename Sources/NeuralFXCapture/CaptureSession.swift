import Foundation
import NeuralFXCore
import NeuralFXDatasets

/// One setting captured and kept.
public struct CapturedSetting: Codable, Equatable, Sendable {
    /// Index into the plan's settings.
    public var setting: Int
    public var knobs: [String: Double]
    public var input: String
    public var target: String
    public var split: String
    public var calibration: CalibrationResult
    public var captured: String
}

/// A capture session's folder: the native dataset `fxtrain train` reads
/// (`manifest.json`, `input/NNN.wav`, `target/NNN.wav`), whose manifest also
/// holds the session (plan, signal, calibration per setting), so an
/// interrupted session resumes from the folder alone.
///
/// Every setting is written whole or not at all: its two files go to
/// temporary names and are renamed into place, then the manifest is
/// replaced the same way. A crash, a kill or a full disk at any moment
/// leaves the settings captured before it as they were.
public struct CaptureSession {
    public let directory: String
    public let plan: KnobPlan
    public let signal: CaptureSignalSpec
    /// How the gear was reached ("jack: send system:playback_1, return system:capture_1").
    public var interface: String
    public private(set) var captured: [CapturedSetting]
    /// Notes from opening the folder (settings dropped because files went missing).
    public private(set) var notes: [String] = []

    /// The manifest: what `fxtrain train` reads (`sample_rate`, `knobs`,
    /// `pairs`) and the session (`capture`), which it ignores.
    struct Manifest: Codable {
        var sampleRate: Int
        var knobs: [KnobSpec]
        var pairs: [Pair]
        var capture: Session
        enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", knobs, pairs, capture }
    }
    struct Pair: Codable {
        var input: String
        var target: String
        var knobs: [String: Double]
        var split: String
    }
    struct Session: Codable {
        var format = "neuralfx-capture"
        var version = 1
        var plan: KnobPlan
        var signal: CaptureSignalSpec
        var interface: String
        /// The session's latency (the first setting's): every later setting must match it.
        var latency: Int?
        var settings: [CapturedSetting]
    }

    public static let manifestName = "manifest.json"

    /// Opens `directory` for a session: creates it, or resumes the session
    /// in it when it was started with the same plan and signal.
    public static func open(directory: String, plan: KnobPlan, signal: CaptureSignalSpec, interface: String) throws -> CaptureSession {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let manifestPath = (directory as NSString).appendingPathComponent(manifestName)
        var session = CaptureSession(directory: directory, plan: plan, signal: signal, interface: interface, captured: [])
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CaptureError("'\(directory)' exists and is not a folder; choose another --out") }
            if let data = fm.contents(atPath: manifestPath) {
                let manifest: Manifest
                do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
                    throw CaptureError("'\(directory)' holds a dataset fxtrain capture did not write (or its manifest is damaged: \(describeDecodingError(error))); choose another --out")
                }
                let saved = manifest.capture
                if saved.plan.knobs != plan.knobs || saved.plan.settings != plan.settings {
                    throw CaptureError("'\(directory)' holds a session with other knob settings (\(saved.plan.settings.count) settings of \(saved.plan.knobs.map(\.name).joined(separator: ", "))); give the same --knobs or --plan to resume it, or choose another --out")
                }
                if saved.signal != signal {
                    throw CaptureError("'\(directory)' holds a session captured at \(saved.signal.sampleRate) Hz with --seconds \(format(saved.signal.seconds)) --level \(format(saved.signal.levelDBFS)) (examples: \(saved.signal.clips.count)); resume it with the same, or choose another --out")
                }
                for s in saved.settings {
                    let files = [s.input, s.target].map { (directory as NSString).appendingPathComponent($0) }
                    if files.allSatisfy({ fm.fileExists(atPath: $0) }) {
                        session.captured.append(s)
                    } else {
                        session.notes.append("setting \(s.setting + 1) (\(plan.shortDescription(setting: s.setting))) lost its files; it is captured again")
                    }
                }
            } else if !((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter({ !$0.hasPrefix(".") }).isEmpty {
                throw CaptureError("'\(directory)' is not empty and holds no capture session; choose another --out")
            }
        }
        do {
            for sub in ["", "input", "target"] {
                try fm.createDirectory(atPath: (directory as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
            }
        } catch {
            throw CaptureError("cannot create '\(directory)': \(error.localizedDescription)")
        }
        guard fm.isWritableFile(atPath: directory) else { throw CaptureError("cannot write in '\(directory)'") }
        return session
    }

    /// Settings of the plan still to capture, in plan order.
    public var remaining: [Int] {
        let done = Set(captured.map(\.setting))
        return plan.settings.indices.filter { !done.contains($0) }
    }

    /// The latency every setting must have: the first captured setting's.
    public var latency: Int? { captured.min { $0.setting < $1.setting }.map(\.calibration.latency) }

    /// Writes one setting's pair and the manifest that lists it, each
    /// atomically (temporary file, then rename). `input`: what was sent;
    /// `target`: the return, aligned and with its polarity put right.
    public mutating func record(setting: Int, input: [Float], target: [Float], calibration: CalibrationResult) throws {
        let name = String(format: "%03d.wav", setting + 1)
        let inputPath = "input/" + name, targetPath = "target/" + name
        for (relative, samples) in [(inputPath, input), (targetPath, target)] {
            let path = (directory as NSString).appendingPathComponent(relative)
            let temporary = (directory as NSString).appendingPathComponent((relative as NSString).deletingLastPathComponent + "/." + name + ".partial")
            do {
                try DatasetFileWriter().writeMonoFloatWAV(samples, sampleRate: signal.sampleRate, to: temporary)
            } catch {
                unlink(temporary)
                throw CaptureError("cannot write '\(path)': \(error)")
            }
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw CaptureError("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
        }
        let stamp = ISO8601DateFormatter().string(from: Date())
        captured.removeAll { $0.setting == setting }
        captured.append(CapturedSetting(setting: setting, knobs: plan.knobValues(setting: setting), input: inputPath, target: targetPath,
                                        split: plan.heldOut.contains(setting) ? "test" : "train", calibration: calibration, captured: stamp))
        captured.sort { $0.setting < $1.setting }
        try writeManifest()
    }

    /// The manifest for the settings captured so far, replaced atomically.
    public func writeManifest() throws {
        // With only held-out settings captured so far, nothing is left to
        // train on: until a training setting arrives they count as training.
        let anyTrain = captured.contains { $0.split == "train" }
        let manifest = Manifest(sampleRate: signal.sampleRate, knobs: plan.schema.knobs,
                                pairs: captured.map { Pair(input: $0.input, target: $0.target, knobs: $0.knobs, split: anyTrain ? $0.split : "train") },
                                capture: Session(plan: plan, signal: signal, interface: interface, latency: latency, settings: captured))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(manifest) } catch { throw CaptureError("cannot encode the manifest: \(error)") }
        let path = (directory as NSString).appendingPathComponent(Self.manifestName)
        let temporary = (directory as NSString).appendingPathComponent(".manifest.json.partial")
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CaptureError("cannot write '\(temporary)' (disk full, or no permission?)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CaptureError("cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    static func format(_ x: Double) -> String { String(format: "%g", x) }
}
