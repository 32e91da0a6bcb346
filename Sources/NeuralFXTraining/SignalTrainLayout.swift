import Foundation
import NeuralFXCore

/// SignalTrain's LA-2A layout: `Train/`, `Val/`, `Test/`, each holding
/// `input_<id>_.wav` and `target_<id>_<DEVICE>__<switch>__<peak>.wav`
/// (switch 0 = compress, 1 = limit; peak reduction 0-100).
enum SignalTrainLayout {
    static let defaultKnobNames = ["switch", "peak"]

    /// `(id, switch, peak)` from a target file name.
    static func parseTarget(_ name: String) -> (id: String, values: [Double])? {
        guard name.hasPrefix("target_"), name.lowercased().hasSuffix(".wav") else { return nil }
        let stem = name.dropFirst("target_".count).dropLast(4)
        let parts = stem.components(separatedBy: "__")
        guard parts.count == 3, let id = parts[0].split(separator: "_").first,
              let sw = Double(parts[1]), let peak = Double(parts[2]) else { return nil }
        return (String(id), [sw, peak])
    }

    static func parseInput(_ name: String) -> String? {
        guard name.hasPrefix("input_"), name.lowercased().hasSuffix(".wav") else { return nil }
        let id = name.dropFirst("input_".count).dropLast(4).split(separator: "_").first
        return id.map(String.init)
    }

    static func load(directory: String, knobNames: [String], decode: Bool = true) throws -> TrainingDataset {
        guard knobNames.count == 2 else {
            throw DatasetError("SignalTrain file names carry 2 knobs (switch, peak); \(knobNames.count) knob names were given")
        }
        let fm = FileManager.default
        var pairs: [TrainingPair] = []
        let folders = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        for folder in folders.sorted() {
            guard let split = DataSplit(label: folder) else { continue }
            let dir = (directory as NSString).appendingPathComponent(folder)
            let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            var inputs: [String: String] = [:]
            var targets: [(id: String, file: String, values: [Double])] = []
            for file in files where file.lowercased().hasSuffix(".wav") {
                if let id = parseInput(file) { inputs[id] = file }
                else if let t = parseTarget(file) { targets.append((t.id, file, t.values)) }
                else if file.hasPrefix("target_") {
                    throw DatasetError("'\(folder)/\(file)' has no knob values in its name (expected target_<id>_<DEVICE>__<switch>__<peak>.wav)")
                }
            }
            let pairedIDs = Set(targets.map(\.id))
            if let lonely = inputs.keys.sorted().first(where: { !pairedIDs.contains($0) }) {
                throw DatasetError("'\(folder)/\(inputs[lonely]!)' has no target_\(lonely)_* file")
            }
            for t in targets {
                guard let inputFile = inputs[t.id] else {
                    throw DatasetError("'\(folder)/\(t.file)' has no input_\(t.id)_.wav")
                }
                let inputPath = (dir as NSString).appendingPathComponent(inputFile)
                let targetPath = (dir as NSString).appendingPathComponent(t.file)
                let input = try readMonoAudio(inputPath, decode: decode), target = try readMonoAudio(targetPath, decode: decode)
                guard input.sampleRate == target.sampleRate else {
                    throw DatasetError("'\(folder)/\(inputFile)' is at \(input.sampleRate) Hz but '\(t.file)' at \(target.sampleRate) Hz")
                }
                pairs.append(TrainingPair(name: "\(folder)/\(t.file)", inputPath: inputPath, targetPath: targetPath,
                                          knobValues: t.values, input: input.samples, target: target.samples,
                                          sampleRate: input.sampleRate, split: split))
            }
        }
        guard !pairs.isEmpty else { throw DatasetError("'\(directory)' has Train/ Val/ Test/ folders but no input/target pairs") }
        let schema = KnobSchema([
            .switchKnob(knobNames[0], label: knobNames[0], positions: ["compress", "limit"], default: 0, conditioningIndex: 0),
            .continuous(knobNames[1], label: knobNames[1], range: 0...100, default: 50, conditioningIndex: 1),
        ])
        return TrainingDataset(layout: "SignalTrain", knobs: schema, pairs: pairs)
    }
}
