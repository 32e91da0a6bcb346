import Foundation
import NeuralFXCore

/// A compressor's ratio to start the gain computer's knob map at, as a
/// datasheet gives it: one ratio for every setting, or one per position of
/// a two-position switch (`mode=3,10`). The slope and the threshold trade
/// against each other over the levels a dataset holds, so a side-chain
/// started at a ratio of 2 everywhere can settle with the slope bent along
/// a continuous knob where the device's is flat; starting it at the
/// device's ratio avoids that valley (docs/models.md).
public struct GainRatioStart: Equatable, Sendable {
    /// The switch the ratio follows, or nil for one ratio everywhere.
    public var knob: String?
    public var ratios: [Double]

    /// Parses `R` or `KNOB=R0,R1`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        knob = parts.count == 2 ? parts[0] : nil
        let values = (parts.last ?? "").split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }), knob.map({ !$0.isEmpty }) ?? true else {
            throw DatasetError("--gain-ratio '\(text)' is not a ratio (4) or a switch's ratios (mode=3,10)")
        }
        ratios = values.map { $0! }
        guard ratios.allSatisfy({ $0 > 1 && $0 <= 1000 }) else {
            throw DatasetError("--gain-ratio '\(text)': a ratio must be above 1 and at most 1000")
        }
        guard (knob == nil) == (ratios.count == 1) else {
            throw DatasetError("--gain-ratio '\(text)': give one ratio, or a switch and one ratio per position (mode=3,10)")
        }
    }

    /// The slope row of the knob map (`GainComputer.Parameter.slope`): its
    /// bias and one weight per conditioning input. The slope parameter is
    /// log(ratio - 1) in both topologies (the feedback slope is its exp,
    /// the feed-forward one its logistic, 1 - 1/ratio).
    public func slopeRow(knobs schema: KnobSchema) throws -> (bias: Float, weights: [Float]) {
        var weights = [Float](repeating: 0, count: schema.conditioningSize)
        let logs = ratios.map { Double.log($0 - 1) }
        guard let name = knob else { return (Float(logs[0]), weights) }
        guard let k = schema.index(of: name) else {
            throw DatasetError("--gain-ratio: the dataset has no knob '\(name)' (its knobs: \(schema.names.joined(separator: ", ")))")
        }
        let spec = schema.knobs[k]
        guard spec.isSwitch, spec.positions.count == 2, ratios.count == 2, let input = spec.conditioningIndex else {
            throw DatasetError("--gain-ratio \(name)=...: '\(name)' must be a two-position switch feeding the network, with one ratio per position")
        }
        let c0 = spec.conditioning(for: 0), c1 = spec.conditioning(for: 1)
        guard c0 != c1 else { throw DatasetError("--gain-ratio: the two positions of '\(name)' feed the same value") }
        let w = (logs[1] - logs[0]) / (c1 - c0)
        weights[input] = Float(w)
        return (Float(logs[0] - w * c0), weights)
    }
}

extension Trainer {
    /// Sets the gain computer's ratio to `start` at every setting, the slope
    /// depending on no other knob. With feedback the attack time is scaled
    /// by the slope's change, so that the loop's speed, which grows with the
    /// slope, stays where training had it. The optimizer's moments of the
    /// rows changed start at zero, and on a resumed run the best weights and
    /// the plateau start over: the loss before cannot be compared.
    public func startGainRatio(_ start: GainRatioStart) throws {
        guard let net = network as? TrainingNetwork<Float>, settings.config.hasGainComputer else {
            throw DatasetError("--gain-ratio sets a gain computer's ratio: use an architecture ending in -gain, -gain-fb or -gain-cell")
        }
        let (slopeBias, slopeWeights) = try start.slopeRow(knobs: dataset.knobs)
        let k = settings.config.nparams
        let weight = net.layout.offset("gain.knob.weight"), bias = net.layout.offset("gain.knob.bias")
        let slope = GainComputer.Parameter.slope.rawValue, attack = GainComputer.Parameter.attack.rawValue
        var p = net.parameters
        var changed = [bias + slope] + (0..<k).map { weight + slope * k + $0 }
        if settings.config.hasGainFeedback {
            // log attack time += log slope (new) - log slope (old), row by row:
            // both are linear in the knobs, so their difference is too.
            p[bias + attack] += slopeBias - p[bias + slope]
            for j in 0..<k { p[weight + attack * k + j] += slopeWeights[j] - p[weight + slope * k + j] }
            changed += [bias + attack] + (0..<k).map { weight + attack * k + $0 }
        }
        p[bias + slope] = slopeBias
        for j in 0..<k { p[weight + slope * k + j] = slopeWeights[j] }
        net.parameters = p
        for i in changed {
            adam.firstMoment[i] = 0
            adam.secondMoment[i] = 0
        }
        restartBest()
    }
}
