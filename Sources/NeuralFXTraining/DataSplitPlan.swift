import NeuralFXCore

/// A stretch `[start, end)` of one pair's samples used for one split.
public struct Segment: Codable, Equatable, Sendable {
    public var pair: Int
    public var start: Int
    public var end: Int
    public var split: DataSplit
    public var length: Int { end - start }
}

/// How pairs are divided into train, validation and test, and the rule
/// that was applied (reported to the user).
/// Codable, so rank 0 of a run across processes can send its plan to ranks
/// that hold no samples to make it from.
public struct DataSplitPlan: Codable, Sendable {
    public var segments: [Segment]
    public var rule: String

    public static let validationFraction = 0.15
    public static let testFraction = 0.15

    public func segments(_ split: DataSplit) -> [Segment] { segments.filter { $0.split == split } }

    /// Splits from the layout when it has them; otherwise `holdout` whole
    /// pairs (knob settings) chosen by the seed go to test, and the rest are
    /// split by time (last 15 % validation, and when nothing is held out the
    /// 15 % before it test). Splits the layout leaves empty are carved from
    /// the end of the training pairs the same way.
    public init(dataset: TrainingDataset, holdout: Int, seed: UInt64) throws {
        var segments: [Segment] = []
        var rules: [String] = []
        let pairs = dataset.pairs
        var wholePair = pairs.map(\.split)
        if wholePair.allSatisfy({ $0 == nil }) && holdout > 0 {
            guard holdout < pairs.count else {
                throw DatasetError("cannot hold out \(holdout) of \(pairs.count) pairs for testing; at least one must remain for training")
            }
            var rng = SplitMix64(seed: seed ^ 0x5EED_5E7)
            var order = Array(pairs.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for i in order.prefix(holdout) { wholePair[i] = .test }
            rules.append("\(holdout) knob setting\(holdout == 1 ? "" : "s") held out for test (chosen by the seed)")
        }
        let hasValidation = wholePair.contains(.validation), hasTest = wholePair.contains(.test)
        for (i, pair) in pairs.enumerated() {
            let n = min(pair.input.count, pair.target.count)
            if let split = wholePair[i], split != .train {
                segments.append(Segment(pair: i, start: 0, end: n, split: split))
                continue
            }
            let validation = hasValidation ? 0 : Int(Double(n) * DataSplitPlan.validationFraction)
            let test = hasTest ? 0 : Int(Double(n) * DataSplitPlan.testFraction)
            let trainEnd = n - validation - test
            segments.append(Segment(pair: i, start: 0, end: trainEnd, split: .train))
            if test > 0 { segments.append(Segment(pair: i, start: trainEnd, end: trainEnd + test, split: .test)) }
            if validation > 0 { segments.append(Segment(pair: i, start: n - validation, end: n, split: .validation)) }
        }
        if pairs.contains(where: { $0.split != nil }) { rules.insert("splits from the \(dataset.layout) layout", at: 0) }
        if !hasValidation { rules.append("last 15 % of each training pair for validation") }
        if !hasTest { rules.append("the 15 % before that for test") }
        self.segments = segments.filter { $0.length > 0 }
        self.rule = rules.joined(separator: "; ")
        for split in DataSplit.allCases where self.segments(split).isEmpty {
            throw DatasetError("the \(split.rawValue) split is empty (\(rule))")
        }
    }
}
