import ArgumentParser
import Foundation
import NeuralFXDatasets
import NeuralFXDevices

extension DeviceKind: ExpressibleByArgument {}
extension KnobSampling: ExpressibleByArgument {}
extension DatasetLayout: ExpressibleByArgument {}

/// A failure of the command itself (not of the dataset logic).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Render a folder of paired dry/processed WAV files from a reference device.",
        discussion: """
            Dry material (synthesised strings, bass, drums, speech-like bursts, sweeps, tone and noise bursts, \
            plus the recordings in the examples folder) is processed by the device at many knob settings. \
            The same seed gives the same bytes. See docs/devices.md.
            """)

    @Option(help: "The device: \(DeviceKind.allCases.map(\.rawValue).joined(separator: " or ")).")
    var device: DeviceKind

    @Option(help: "Total duration of the dry material, in minutes.")
    var minutes: Double

    @Option(help: "Output folder; must not exist or be empty.")
    var out: String

    @Option(help: "Seed of everything random in the dataset.")
    var seed: UInt64 = 1

    @Option(help: "Knob settings: grid (evenly spaced, all covered) or random (drawn per pair).")
    var sampling: KnobSampling = .grid

    @Option(help: "Every pair at this one knob setting instead, every knob named: e.g. drive=0.8,tone=0.5,level=1 (a capture of one setting, for NAM's WaveNet).")
    var setting: String?

    @Option(help: "native (manifest + split folders) or signaltrain (its LA-2A file names; la2a only).")
    var layout: DatasetLayout = .native

    @Option(help: "Folder of recordings mixed into the dry material (default: examples, when it exists).")
    var examples: String?

    func validate() throws {
        guard minutes > 0, minutes.isFinite else { throw ValidationError("--minutes must be a positive number") }
    }

    func run() throws {
        var spec = DatasetSpec(device: device, minutes: minutes, seed: seed, sampling: sampling, layout: layout)
        if let setting { spec.fixedSetting = try parseSetting(setting) }
        let plan = try DatasetPlan(spec)
        let clips = try loadClips(sampleRate: spec.sampleRate)
        let renderer = DatasetRenderer(plan: plan,
                                       material: DryMaterial(sampleRate: spec.sampleRate, clips: clips.map(\.samples)),
                                       clipNames: clips.map(\.name), writer: DatasetFileWriter())
        // Progress only on a terminal; logs get the summary alone.
        let showProgress = isatty(STDERR_FILENO) == 1
        let report = try renderer.render(to: out) { done, total in
            if showProgress { FileHandle.standardError.write(Data("\rrendered \(done)/\(total) pairs".utf8)) }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print("wrote \(report.pairs) pairs (\(format(report.audioSeconds / 60)) min of \(device.rawValue), " +
              "\(clips.count) example clip\(clips.count == 1 ? "" : "s")) to \(out)")
        print("speed (CPU time, one core): device \(format(report.deviceSpeed))x real time, " +
              "whole render \(format(report.overallSpeed))x (synthesis \(format(report.synthesisSeconds)) s, " +
              "device \(format(report.deviceSeconds)) s, files \(format(report.writingSeconds)) s; " +
              "\(format(report.wallSeconds)) s wall)")
    }

    private func loadClips(sampleRate: Double) throws -> [(name: String, samples: [Float])] {
        let folder = examples ?? "examples"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            if examples != nil { throw CommandFailure(description: "examples folder '\(folder)' does not exist") }
            return []
        }
        do { return try ExampleClips.load(folder: folder, sampleRate: sampleRate) } catch {
            throw CommandFailure(description: "reading example clips: \(error)")
        }
    }

    /// `name=value,...` naming every knob of the device once, in range, in schema order.
    private func parseSetting(_ text: String) throws -> [Double] {
        let knobs = device.knobs.knobs
        var values: [String: Double] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
                throw CommandFailure(description: "--setting: '\(item)' is not name=number")
            }
            guard let knob = knobs.first(where: { $0.name == parts[0] }) else {
                throw CommandFailure(description: "--setting: \(device.rawValue) has no knob '\(parts[0])' (its knobs: \(knobs.map(\.name).joined(separator: ", ")))")
            }
            guard value >= knob.minimum && value <= knob.maximum else {
                throw CommandFailure(description: "--setting: \(knob.name) \(value) is outside \(knob.minimum)...\(knob.maximum)")
            }
            values[knob.name] = value
        }
        return try knobs.map { k in
            guard let v = values[k.name] else { throw CommandFailure(description: "--setting: give every knob; '\(k.name)' is missing") }
            return v
        }
    }

    private func format(_ x: Double) -> String { String(format: "%.1f", x) }
}
