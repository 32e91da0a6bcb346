import NeuralFXCore
import NeuralFXDevices

public enum KnobSampling: String, CaseIterable, Sendable {
    /// Evenly spaced settings, each used by about the same number of pairs.
    case grid
    /// Every pair draws its own setting uniformly.
    case random
}

public enum DatasetLayout: String, CaseIterable, Sendable {
    /// Split folders of WAV pairs plus `manifest.json`.
    case native
    /// SignalTrain's LA-2A layout (`Train/`, `Val/`, `Test/`,
    /// `input_<id>_.wav`, `target_<id>_<DEVICE>__<switch>__<peak>.wav`), plus
    /// the same `manifest.json`.
    case signaltrain
}

public enum DatasetSplit: String, Codable, CaseIterable, Sendable {
    case train, validation, test
}

/// What to render.
public struct DatasetSpec: Sendable {
    public var device: DeviceKind
    public var minutes: Double
    public var seed: UInt64
    public var sampling: KnobSampling
    public var layout: DatasetLayout
    public var sampleRate: Double = 44_100
    /// Preferred length of one pair; grid sampling shortens pairs (to no less
    /// than `minimumPairSeconds`) so every grid setting gets one.
    public var pairSeconds: Double = 20
    public var minimumPairSeconds: Double = 5
    /// Every pair at this one knob setting (schema order) instead of
    /// `sampling`'s: a capture of one setting, as Neural Amp Modeler's.
    public var fixedSetting: [Double]?
    public var validationFraction = 0.1
    public var testFraction = 0.1

    public init(device: DeviceKind, minutes: Double, seed: UInt64, sampling: KnobSampling = .grid,
                layout: DatasetLayout = .native) {
        self.device = device
        self.minutes = minutes
        self.seed = seed
        self.sampling = sampling
        self.layout = layout
    }
}

public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case invalidMinutes(Double)
    case layoutNeedsCompressor(DeviceKind)
    case outputNotEmpty(String)
    case outputIsAFile(String)
    case stagingFolderExists(String)
    case io(String)
    case badManifest(String)

    public var description: String {
        switch self {
        case let .invalidMinutes(m): return "--minutes must be a positive number of minutes (got \(m))"
        case let .layoutNeedsCompressor(d):
            return "the signaltrain layout names files by the LA-2A's controls; use --layout native for '\(d.rawValue)'"
        case let .outputNotEmpty(p): return "output folder '\(p)' already exists and is not empty; choose another or remove it"
        case let .outputIsAFile(p): return "output path '\(p)' is a file, not a folder"
        case let .stagingFolderExists(p): return "'\(p)' is left over from an interrupted render; remove it first"
        case let .io(m): return m
        case let .badManifest(m): return "dataset manifest: \(m)"
        }
    }
}

/// One input/target pair to render.
public struct PlannedPair: Equatable, Sendable {
    public var index: Int
    public var split: DatasetSplit
    /// Knob values in the device's schema order.
    public var knobValues: [Double]
    /// Seed of the pair's dry material; pairs are independent of each other.
    public var inputSeed: UInt64
    public var frames: Int
}

/// The pairs of a dataset, their knob settings and splits, and their file
/// names in the chosen layout. A pure function of the spec.
public struct DatasetPlan: Sendable {
    public let spec: DatasetSpec
    public let pairs: [PlannedPair]
    /// The device name written into SignalTrain target names (theirs are
    /// `LA2A_2c`, `LA2A_3c` after the unit they measured).
    public static let signalTrainDeviceName = "LA2A_NFX"

    public init(_ spec: DatasetSpec) throws {
        guard spec.minutes > 0, spec.minutes.isFinite else { throw DatasetError.invalidMinutes(spec.minutes) }
        if spec.layout == .signaltrain && spec.device != .la2a { throw DatasetError.layoutNeedsCompressor(spec.device) }
        self.spec = spec
        let schema = spec.device.knobs
        let totalSeconds = spec.minutes * 60
        var rng = SplitMix64(seed: spec.seed)

        let grid = Self.gridSettings(spec.device)
        var count = max(1, Int((totalSeconds / spec.pairSeconds).rounded()))
        if spec.fixedSetting == nil && spec.sampling == .grid && count < grid.count {
            count = max(count, min(grid.count, Int(totalSeconds / spec.minimumPairSeconds)))
        }
        let frames = Int((totalSeconds / Double(count) * spec.sampleRate).rounded())

        let gridOrder = Self.shuffled(Array(grid.indices), &rng)
        let splitOrder = Self.shuffled(Array(0..<count), &rng)
        let validationCount = count >= 3 ? max(1, Int((Double(count) * spec.validationFraction).rounded())) : 0
        let testCount = count >= 3 ? max(1, Int((Double(count) * spec.testFraction).rounded())) : 0
        var splits = [DatasetSplit](repeating: .train, count: count)
        for (rank, i) in splitOrder.enumerated() {
            if rank < validationCount { splits[i] = .validation } else if rank < validationCount + testCount { splits[i] = .test }
        }

        var pairs: [PlannedPair] = []
        for i in 0..<count {
            var values: [Double]
            switch spec.sampling {
            case _ where spec.fixedSetting != nil: values = spec.fixedSetting!
            case .grid: values = grid[gridOrder[i % grid.count]]
            case .random: values = schema.knobs.map { k in
                k.isSwitch ? Double(rng.index(k.positions.count)) : k.minimum + (k.maximum - k.minimum) * rng.unit()
            }
            }
            if spec.layout == .signaltrain {
                // Peak in whole dial units, as the file name states it.
                let peak = schema.index(of: "peak")!
                values[peak] = (values[peak] * 100).rounded() / 100
            }
            pairs.append(PlannedPair(index: i, split: splits[i], knobValues: values, inputSeed: rng.next(), frames: frames))
        }
        self.pairs = pairs
    }

    /// Grid settings: Peak Reduction in steps of 0.05 (SignalTrain's 5 on
    /// the dial) in both modes; for the overdrive five steps of drive and
    /// tone and four of level.
    static func gridSettings(_ device: DeviceKind) -> [[Double]] {
        switch device {
        case .la2a:
            // Schema order: mode, peak.
            return (0...1).flatMap { mode in (0...20).map { [Double(mode), Double($0) / 20] } }
        case .overdrive:
            let steps = [0.0, 0.25, 0.5, 0.75, 1]
            return steps.flatMap { d in steps.flatMap { t in [0.25, 0.5, 0.75, 1.0].map { l in [d, t, l] } } }
        }
    }

    private static func shuffled(_ values: [Int], _ rng: inout SplitMix64) -> [Int] {
        var v = values
        if v.count > 1 {
            for i in stride(from: v.count - 1, to: 0, by: -1) { v.swapAt(i, rng.index(i + 1)) }
        }
        return v
    }

    /// Paths of a pair's files relative to the dataset folder.
    public func files(for pair: PlannedPair) -> (input: String, target: String) {
        let id = String(pair.index + 1).leftPadded(to: 3)
        switch spec.layout {
        case .native:
            let folder = pair.split.rawValue
            return ("\(folder)/\(id)-input.wav", "\(folder)/\(id)-target.wav")
        case .signaltrain:
            let folder = ["train": "Train", "validation": "Val", "test": "Test"][pair.split.rawValue]!
            let schema = spec.device.knobs
            let limit = Int(pair.knobValues[schema.index(of: "mode")!])
            let peak = Int((pair.knobValues[schema.index(of: "peak")!] * 100).rounded())
            return ("\(folder)/input_\(id)_.wav", "\(folder)/target_\(id)_\(Self.signalTrainDeviceName)__\(limit)__\(peak).wav")
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
