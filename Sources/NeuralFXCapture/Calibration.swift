import Foundation
import NeuralFXTraining

/// What the calibration part of one setting's capture showed. Stored in the
/// dataset manifest beside the pair.
public struct CalibrationResult: Codable, Equatable, Sendable {
    /// Samples from a sample sent to its return (the whole round trip:
    /// interface buffers, converters, the gear).
    public var latency: Int
    public var polarityInverted: Bool
    /// Correlation of the signal sent with its return at that latency (1: a wire; negative: inverted).
    public var correlation: Double
    /// Latency read from each start click alone, and the median of the end clicks.
    public var clickLatencies: [Int]
    public var endLatency: Int
    /// End clicks' latency minus the start clicks': clocks that drift apart.
    public var driftSamples: Int
    public var driftPPM: Double
    public var returnPeakDBFS: Double
    public var returnRMSDBFS: Double
    public var clippedSamples: Int
    /// Problems that make the setting unusable (one line each), and findings that do not.
    public var problems: [String]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case latency, polarityInverted = "polarity_inverted", correlation, clickLatencies = "click_latencies"
        case endLatency = "end_latency", driftSamples = "drift_samples", driftPPM = "drift_ppm"
        case returnPeakDBFS = "return_peak_dbfs", returnRMSDBFS = "return_rms_dbfs", clippedSamples = "clipped_samples"
        case problems, notes
    }
}

/// The checks run on every setting's recording before it is kept.
public enum Calibration {
    /// Below this peak the return is taken for silence (a wrong port, a
    /// cable not plugged in, the gear off).
    public static let silentDBFS = -80.0
    /// Below this peak the return is too low to train on: the interface's
    /// noise would be a large part of what the model learns.
    public static let lowDBFS = -40.0
    /// Where a suggested gain aims the return's peak.
    public static let targetPeakDBFS = -12.0
    /// Samples at or above this magnitude count as clipped.
    public static let clipLevel: Float = 0.999
    /// Clicks may disagree by this much (one sample of rounding in the
    /// estimate) before the route is called unstable.
    public static let clickTolerance = 1
    /// Drift of this many samples between the start and end clicks is a problem.
    public static let driftLimit = 2

    /// Checks a recording against the signal sent. `expectedLatency`: the
    /// session's latency so far (the first setting's), nil for the first.
    public static func analyse(sent: [Float], returned: [Float], layout: CaptureSignalLayout, sampleRate: Int,
                               maxLatency: Int, expectedLatency: Int?) -> CalibrationResult {
        var result = CalibrationResult(latency: 0, polarityInverted: false, correlation: 0, clickLatencies: [], endLatency: 0,
                                       driftSamples: 0, driftPPM: 0, returnPeakDBFS: -200, returnRMSDBFS: -200,
                                       clippedSamples: 0, problems: [], notes: [])
        var peak: Float = 0, energy = 0.0, clipped = 0
        for v in returned {
            let a = abs(v)
            if !a.isFinite { clipped += 1; continue }
            peak = max(peak, a)
            energy += Double(v) * Double(v)
            if a >= clipLevel { clipped += 1 }
        }
        result.returnPeakDBFS = decibels(Double(peak))
        result.returnRMSDBFS = decibels((energy / Double(max(returned.count, 1))).squareRoot())
        result.clippedSamples = clipped
        if result.returnPeakDBFS < silentDBFS {
            result.problems.append("the return is silent (peak \(format(result.returnPeakDBFS)) dBFS): check that RETURN is the input the gear's output is plugged into, that the gear is on and its output is up")
            return result
        }

        // The latency of the whole calibration stretch: the phase transform
        // is sharp to the sample even through gear that filters.
        let a = layout.calibration.lowerBound, b = layout.calibration.upperBound
        let sentPart = Array(sent[a..<b])
        let returnPart = Array(returned[min(a, returned.count)..<min(b + maxLatency, returned.count)])
        let (lag, bandCorrelation) = DataChecks.estimateLatency(input: sentPart, target: returnPart, maxLag: maxLatency)
        result.latency = lag
        // Polarity from the band the lag was read from (as fxtrain train's
        // checks read it); the figure reported is the plain correlation of
        // the whole signal with its return at that lag: 1 for a wire.
        result.polarityInverted = bandCorrelation < 0
        var cross = 0.0, sentEnergy = 0.0, returnEnergy = 0.0
        for i in sent.indices {
            let j = i + lag
            guard j >= 0 && j < returned.count else { continue }
            cross += Double(sent[i]) * Double(returned[j])
            sentEnergy += Double(sent[i]) * Double(sent[i])
            returnEnergy += Double(returned[j]) * Double(returned[j])
        }
        let correlation = sentEnergy > 0 && returnEnergy > 0 ? cross / (sentEnergy * returnEnergy).squareRoot() : 0
        result.correlation = correlation

        // Each click alone, searched near that latency: they must agree.
        result.clickLatencies = layout.startClicks.map { clickLatency(at: $0, sent: sent, returned: returned, around: lag, search: 256) }
        // The end clicks may have moved far: interfaces on separate clocks
        // differ by tens to hundreds of ppm (100 ppm is 800 samples over
        // three minutes). They are searched up to 500 ppm of the distance,
        // within half their spacing.
        let distance = Double((layout.endClicks.first ?? 0) - (layout.startClicks.first ?? 0))
        let endSearch = min(4096, max(256, Int(distance * 500e-6)))
        let endLatencies = layout.endClicks.map {
            clickLatency(at: $0, sent: sent, returned: returned, around: lag, search: endSearch)
        }.sorted()
        result.endLatency = endLatencies.isEmpty ? lag : endLatencies[endLatencies.count / 2]
        let startSorted = result.clickLatencies.sorted()
        let startLatency = startSorted.isEmpty ? lag : startSorted[startSorted.count / 2]
        result.driftSamples = result.endLatency - startLatency
        // Medians of lags over the middle clicks' distance: a steady drift
        // puts each median at its group's middle click.
        let middle = { (clicks: [Int]) in clicks.isEmpty ? 0 : clicks[clicks.count / 2] }
        let span = Double(middle(layout.endClicks) - middle(layout.startClicks))
        result.driftPPM = span > 0 ? Double(result.driftSamples) / span * 1e6 : 0

        if abs(correlation) < 0.1 {
            result.problems.append(String(format: "the return hardly resembles what was sent (correlation %.3f): is SEND the gear's input and RETURN its output, and nothing else mixed in?", correlation))
        }
        if lag < 0 {
            result.problems.append("the return arrives \(-lag) samples before the send: RETURN is not the gear's output (a software loop, or another signal)")
        } else if lag >= maxLatency {
            result.problems.append("no latency below \(maxLatency) samples matches: RETURN is not the gear's output, or the round trip is longer than \(maxLatency) samples")
        }
        if abs(result.driftSamples) >= driftLimit {
            result.problems.append(String(format: "the return drifts against the send by %d samples over %.0f s (%.0f ppm): SEND and RETURN run on different clocks; use one interface for both or lock their clocks (word clock, S/PDIF or ADAT sync)",
                                          result.driftSamples, span / Double(sampleRate), result.driftPPM))
        } else if let spread = startSorted.last.map({ $0 - startSorted[0] }), spread > clickTolerance {
            result.problems.append("the clicks came back at different latencies (\(result.clickLatencies.map(String.init).joined(separator: ", ")) samples): audio dropped or the route changed during calibration; redo this setting")
        } else if result.driftSamples != 0 {
            result.notes.append("the end clicks came back \(result.driftSamples) sample\(abs(result.driftSamples) == 1 ? "" : "s") off the start clicks (rounding, or a slow drift)")
        }
        if let expected = expectedLatency, expected != lag, result.problems.isEmpty {
            result.problems.append("the latency changed: \(lag) samples now, \(expected) in the settings captured before: the interface's buffer size, sample rate or routing changed; put it back and redo this setting, or capture into a new folder")
        }
        if clipped > 3 {
            let over = result.returnPeakDBFS > 0 ? String(format: ", peak %+.1f dBFS", result.returnPeakDBFS) : ""
            result.problems.append("the return clips (\(clipped) samples at full scale\(over)): lower the gear's output or the interface's input gain by about \(Int(max(6, result.returnPeakDBFS - targetPeakDBFS).rounded())) dB")
        } else if result.returnPeakDBFS < lowDBFS {
            result.problems.append("the return is too low (peak \(format(result.returnPeakDBFS)) dBFS): raise the interface's input gain (or the gear's output) by about \(Int((targetPeakDBFS - result.returnPeakDBFS).rounded())) dB")
        }
        if result.polarityInverted {
            result.notes.append("the polarity is inverted (the gear or a cable flips it): the return is flipped back in the dataset")
        }
        return result
    }

    /// The latency of one click, searched within `search` samples of `around`.
    static func clickLatency(at position: Int, sent: [Float], returned: [Float], around lag: Int, search: Int) -> Int {
        let half = 2048 + search
        let start = max(0, position - half), end = min(sent.count, position + half)
        let input = Array(sent[start..<end])
        var target = [Float](repeating: 0, count: end - start)
        for i in target.indices {
            let j = start + i + lag
            if j >= 0 && j < returned.count { target[i] = returned[j] }
        }
        return lag + DataChecks.estimateLatency(input: input, target: target, maxLag: search).lag
    }

    /// The return lined up with the send: `count` samples from `latency` on,
    /// flipped when the polarity is inverted (zeros past the recording's end).
    public static func aligned(_ returned: [Float], latency: Int, inverted: Bool, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        let sign: Float = inverted ? -1 : 1
        for i in 0..<count {
            let j = i + latency
            if j >= 0 && j < returned.count { out[i] = sign * returned[j] }
        }
        return out
    }

    /// dB of a linear level, floored at -200 (JSON has no infinities).
    static func decibels(_ x: Double) -> Double { x > 1e-10 ? 20 * log10(x) : -200 }
    static func format(_ db: Double) -> String { String(format: "%.1f", db) }
}
