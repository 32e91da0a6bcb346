import Foundation
import NeuralFXAudio
import NeuralFXCore

/// Which part of a run a stretch of audio belongs to.
public enum DataSplit: String, Codable, CaseIterable, Sendable {
    case train, validation, test

    /// Accepts the spellings manifests and folder layouts use.
    public init?(label: String) {
        switch label.lowercased() {
        case "train", "training": self = .train
        case "val", "valid", "validation": self = .validation
        case "test", "testing": self = .test
        default: return nil
        }
    }
}

/// One input/target recording pair at one knob setting.
public struct TrainingPair: Sendable {
    public var name: String
    public var inputPath: String
    public var targetPath: String
    /// Knob values as the user reads them, in schema order.
    public var knobValues: [Double]
    public var input: [Float]
    public var target: [Float]
    public var sampleRate: Int
    /// The split of the whole pair, when the layout says; otherwise the
    /// trainer splits by time (see `SplitRule`).
    public var split: DataSplit?

    public init(name: String, inputPath: String, targetPath: String, knobValues: [Double], input: [Float], target: [Float],
                sampleRate: Int, split: DataSplit?) {
        self.name = name
        self.inputPath = inputPath
        self.targetPath = targetPath
        self.knobValues = knobValues
        self.input = input
        self.target = target
        self.sampleRate = sampleRate
        self.split = split
    }
}

/// Paired recordings with their knobs, as read from a dataset folder.
public struct TrainingDataset: Sendable {
    public var layout: String
    public var knobs: KnobSchema
    public var pairs: [TrainingPair]
    /// The reference device that rendered the targets, when the dataset says.
    public var referenceDevice: String?
    public var sampleRate: Int { pairs.first?.sampleRate ?? 0 }

    public init(layout: String, knobs: KnobSchema, pairs: [TrainingPair]) {
        self.layout = layout
        self.knobs = knobs
        self.pairs = pairs
    }

    /// The conditioning vector of a pair.
    public func conditioning(_ pair: TrainingPair) -> [Float] {
        var c = [Float](repeating: 0, count: knobs.conditioningSize)
        guard !pair.knobValues.isEmpty else { return c }
        pair.knobValues.withUnsafeBufferPointer { knobs.conditioning(for: $0.baseAddress!, into: &c) }
        return c
    }

    /// The output gain a pair's knobs set (1 unless a knob is an output level;
    /// see `KnobSpec.outputGainDecibels`).
    public func outputGain(_ pair: TrainingPair) -> Double {
        pair.knobValues.withUnsafeBufferPointer { knobs.outputGain(for: $0.baseAddress!) }
    }

    /// The network learns the effect before the knobs' output gain, which
    /// the engine applies: each pair's target is divided by that gain.
    /// Pairs whose gain is 1 are unchanged.
    public func targetsBeforeKnobGain() -> TrainingDataset {
        guard knobs.setsOutputGain else { return self }
        var copy = self
        for i in copy.pairs.indices {
            let g = Float(1 / outputGain(copy.pairs[i]))
            if g != 1 { copy.pairs[i].target = copy.pairs[i].target.map { $0 * g } }
        }
        return copy
    }

    /// How a pair's knob setting reads, e.g. `peak=40 switch=1`.
    public func settingDescription(_ pair: TrainingPair) -> String {
        zip(knobs.knobs, pair.knobValues).map { "\($0.name)=\($0.describe($1))" }.joined(separator: " ")
    }
}

/// A problem with the dataset, stated in one line.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Audio frames this process has decoded from dataset files (whole files
/// by `readMonoAudio`, chunks by `ChunkFiles`): how a run across processes
/// shows that ranks other than 0 decode only their share. Touched by the
/// thread that loads and trains only.
public enum DecodedFrames {
    public nonisolated(unsafe) static var count = 0
}

/// The one place the trainer reads whole audio files: mono float samples and
/// the rate. With `decode` false, only the header is read (the rate, and
/// that the file is mono and not empty) and `samples` is empty.
public func readMonoAudio(_ path: String, decode: Bool = true) throws -> (samples: [Float], sampleRate: Int) {
    let reader: AudioFileReader
    do { reader = try AudioFileReader(path: path) } catch let e as AudioFileError { throw DatasetError(e.description) }
    guard reader.channels == 1 else {
        throw DatasetError("'\(path)' has \(reader.channels) channels; training pairs must be mono")
    }
    guard decode else {
        guard reader.frames > 0 else { throw DatasetError("'\(path)' contains no audio") }
        return ([], reader.sampleRate)
    }
    let channels: [[Float]]
    do { channels = try reader.readAll() } catch let e as AudioFileError { throw DatasetError(e.description) }
    guard let samples = channels.first, !samples.isEmpty else { throw DatasetError("'\(path)' contains no audio") }
    DecodedFrames.count += samples.count
    return (samples, reader.sampleRate)
}

extension TrainingDataset {
    /// Reads a dataset folder in whichever layout it has: a native manifest
    /// (`manifest.json`), SignalTrain's `Train/ Val/ Test/` folders, or one
    /// shared input with knob settings in the target names (the CL 1B layout).
    /// `knobNames` names SignalTrain's knobs (default `switch`, `peak`).
    /// With `decode` false the audio files' headers are read but not their
    /// samples: every pair's `input` and `target` are empty, for a process
    /// that reads chunks from the files as it needs them (`ChunkFiles`).
    public static func load(from directory: String, knobNames: [String]? = nil, decode: Bool = true) throws -> TrainingDataset {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw DatasetError("dataset folder '\(directory)' does not exist")
        }
        guard isDirectory.boolValue else { throw DatasetError("'\(directory)' is not a folder") }
        let entries = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        if entries.contains(NativeManifest.fileName) {
            return try NativeManifest.load(directory: directory, decode: decode)
        }
        if entries.contains(where: { ["train", "val", "test"].contains($0.lowercased()) }) {
            return try SignalTrainLayout.load(directory: directory, knobNames: knobNames ?? SignalTrainLayout.defaultKnobNames, decode: decode)
        }
        if entries.contains(where: { CL1BFileName.parse($0) != nil }) {
            return try CL1BFileName.loadFolder(directory, decode: decode)
        }
        if entries.filter({ $0.lowercased().hasSuffix(".wav") }).isEmpty {
            throw DatasetError("'\(directory)' has no audio pairs (expected \(NativeManifest.fileName), "
                               + "SignalTrain's Train/ Val/ Test/ folders, or Input.wav with target_at_*.wav)")
        }
        throw DatasetError("cannot tell the layout of '\(directory)': no \(NativeManifest.fileName), no Train/ Val/ Test/ "
                           + "folders and no target_at_* files")
    }
}
