import Foundation
import RealModule

/// What the checks found about one pair and did to it.
public struct PairCheck: Codable, Sendable {
    public var name: String
    /// Samples by which the target lags the input (negative: leads), removed.
    public var latency: Int
    /// Normalized cross-correlation at that lag (negative: inverted polarity).
    public var correlation: Double
    public var polarityInverted: Bool
    public var notes: [String]
}

/// The checks a careful capture tool runs before training: rates and
/// lengths, latency by cross-correlation (removed, refused above a limit),
/// polarity, silence, clipping and level.
public enum DataChecks {
    /// Samples of each pair the latency search looks at, in windows spread
    /// over the pair: one window of repetitive material (a held note, a
    /// drum loop) can match best a period away, but different windows
    /// repeat at different periods and agree only at the true lag.
    static let correlationWindow = 1 << 15
    static let correlationWindows = 8

    /// Part of the spectrum the lag is read from, as fractions of the sample
    /// rate (about 220 Hz to 11 kHz at 44.1 kHz). Bass alone gives broad
    /// correlation peaks that filters in the gear shift by tens of samples;
    /// the top of the band still carries the attacks of bass notes.
    static let band = 0.005...0.25

    /// The lag (in samples, positive when the target comes later) at which
    /// the target best matches the input, searched over `-maxLag...maxLag`,
    /// and the normalized correlation of the two, high-passed, there (its
    /// sign tells the polarity).
    ///
    /// The lag is the peak of the phase transform (GCC-PHAT, Knapp & Carter
    /// 1976): the cross-spectrum in the band, summed over the windows, with
    /// the frequencies weighted nearly alike. A plain correlation is dominated by
    /// the loudest, lowest partials and by harmonics the gear adds, and its
    /// broad peaks land tens to a thousand samples off on driven or
    /// bass-heavy pairs; the phase transform's peak is one sample wide.
    public static func estimateLatency(input: [Float], target: [Float], maxLag: Int) -> (lag: Int, correlation: Double) {
        let length = min(input.count, target.count)
        let window = min(length, correlationWindow)
        let windows = max(1, min(correlationWindows, length / window))
        var size = 2
        while size < window + 2 * maxLag + 1 { size *= 2 }
        let fft = FFT<Double>(size: size)
        // The cross-spectrum conj(X) Y, summed over windows; its inverse is
        // r[lag] = sum_n x[n] y[n + lag].
        var crossRe = [Double](repeating: 0, count: size), crossIm = crossRe
        var inputPower = crossRe, targetPower = crossRe
        for w in 0..<windows {
            let start = windows == 1 ? (length - window) / 2 : w * (length - window) / (windows - 1)
            var xr = [Double](repeating: 0, count: size), xi = xr, yr = xr, yi = xr
            for n in 0..<window { xr[n] = Double(input[start + n]) }
            // The target window reaches `maxLag` past the input window on
            // both sides so every searched lag sees full overlap where it can.
            let targetStart = max(start - maxLag, 0)
            let targetEnd = min(start + window + maxLag, target.count)
            for n in targetStart..<targetEnd { yr[(n - start + size) % size] = Double(target[n]) }
            fft.transform(real: &xr, imaginary: &xi, sign: -1)
            fft.transform(real: &yr, imaginary: &yi, sign: -1)
            for k in 0..<size {
                crossRe[k] += xr[k] * yr[k] + xi[k] * yi[k]
                crossIm[k] += xr[k] * yi[k] - xi[k] * yr[k]
                inputPower[k] += xr[k] * xr[k] + xi[k] * xi[k]
                targetPower[k] += yr[k] * yr[k] + yi[k] * yi[k]
            }
        }
        // Bins of the band, at positive and (mirrored) negative frequencies.
        let low = max(1, Int((band.lowerBound * Double(size)).rounded())), high = Int((band.upperBound * Double(size)).rounded())
        func inBand(_ k: Int) -> Bool { let f = min(k, size - k); return f >= low && f <= high }
        // Whitening is tempered: a bin is weighted 1 / (|C| + 2 mean |C|), so
        // bins well above the band's average count alike, and bins far below
        // it (leakage between the partials of a held note, noise) stay small
        // instead of being raised to full weight. Full whitening misplaced a
        // held tone by one sample; the range 1 to 4 times the mean passes
        // every alignment test, 0.5 does not.
        var mean = 0.0, bins = 0
        for k in 0..<size where inBand(k) { mean += (crossRe[k] * crossRe[k] + crossIm[k] * crossIm[k]).squareRoot(); bins += 1 }
        let floor = 2 * mean / Double(max(bins, 1))
        var phatRe = [Double](repeating: 0, count: size), phatIm = phatRe
        var bandRe = phatRe, bandIm = phatRe
        var inputEnergy = 0.0, targetEnergy = 0.0
        for k in 0..<size where inBand(k) {
            let magnitude2 = crossRe[k] * crossRe[k] + crossIm[k] * crossIm[k]
            bandRe[k] = crossRe[k]
            bandIm[k] = crossIm[k]
            inputEnergy += inputPower[k]
            targetEnergy += targetPower[k]
            let weight = 1 / (magnitude2.squareRoot() + floor)
            phatRe[k] = crossRe[k] * weight
            phatIm[k] = crossIm[k] * weight
        }
        fft.transform(real: &phatRe, imaginary: &phatIm, sign: 1)
        fft.transform(real: &bandRe, imaginary: &bandIm, sign: 1)
        var peak = 0, peakValue = 0.0
        for lag in -maxLag...maxLag {
            let v = abs(phatRe[(lag + size) % size])
            if v > peakValue { peak = lag; peakValue = v }
        }
        let best = peak
        // Parseval: the band's energy in the time domain is its spectral energy / size.
        let norm = (inputEnergy * targetEnergy).squareRoot() / Double(size)
        return (best, norm > 0 ? bandRe[(best + size) % size] / Double(size) / norm : 0)
    }

    /// Checks every pair, aligns latency, flips inverted targets and trims
    /// lengths in place. Throws on anything training cannot use; returns one
    /// line per finding.
    public static func run(_ dataset: inout TrainingDataset, maxLatency: Int) throws -> [PairCheck] {
        guard let rate = dataset.pairs.first?.sampleRate else { throw DatasetError("the dataset has no pairs") }
        var checks: [PairCheck] = []
        for i in dataset.pairs.indices {
            var pair = dataset.pairs[i]
            var notes: [String] = []
            guard pair.sampleRate == rate else {
                throw DatasetError("'\(pair.name)' is at \(pair.sampleRate) Hz but '\(dataset.pairs[0].name)' at \(rate) Hz; resample to one rate")
            }
            for (label, signal) in [("input", pair.input), ("target", pair.target)] {
                if signal.contains(where: { !$0.isFinite }) { throw DatasetError("'\(pair.name)': the \(label) contains NaN or infinite samples") }
                let rms = (signal.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(signal.count)).squareRoot()
                if rms < 1e-4 { throw DatasetError("'\(pair.name)': the \(label) is silent (RMS \(decibels(rms)) dBFS)") }
                let clipped = signal.filter { abs($0) >= 0.999 }.count
                if Double(clipped) > 1e-3 * Double(signal.count) {
                    notes.append("the \(label) clips (\(clipped) samples at full scale)")
                }
                let peak = Double(signal.map(abs).max() ?? 0)
                if peak < 0.01 { notes.append("the \(label) is quiet (peak \(decibels(peak)) dBFS); check the capture level") }
            }
            let longer = max(pair.input.count, pair.target.count), shorter = min(pair.input.count, pair.target.count)
            if shorter * 2 < longer {
                throw DatasetError("'\(pair.name)': input has \(pair.input.count) samples but target \(pair.target.count); they cannot be a pair")
            }
            let (lag, correlation) = estimateLatency(input: pair.input, target: pair.target, maxLag: 4 * maxLatency)
            if abs(lag) > maxLatency {
                throw DatasetError("'\(pair.name)': the target is offset from the input by \(lag) samples, more than the limit of \(maxLatency)"
                                   + " (heavy distortion can mislead the estimate: if the pairs are known to be aligned, pass --max-latency 0)")
            }
            if abs(correlation) < 0.05 {
                notes.append(String(format: "input and target barely correlate (%.3f); is this the right pair?", correlation))
            }
            let inverted = correlation < 0
            notes += align(&pair, latency: lag, polarityInverted: inverted)
            let gain = decibels(rms(pair.target)) - decibels(rms(pair.input))
            if abs(gain) > 24 { notes.append(String(format: "target is %+.1f dB from the input level", gain)) }
            dataset.pairs[i] = pair
            checks.append(PairCheck(name: pair.name, latency: lag, correlation: correlation, polarityInverted: inverted, notes: notes))
        }
        noteOddLatencies(&checks)
        return checks
    }

    /// Removes the latency, flips an inverted target and trims to the
    /// common length; returns what it did.
    static func align(_ pair: inout TrainingPair, latency lag: Int, polarityInverted inverted: Bool) -> [String] {
        var notes: [String] = []
        if lag > 0 {
            pair.target.removeFirst(lag)
            notes.append("target lags the input by \(lag) samples: removed")
        } else if lag < 0 {
            pair.input.removeFirst(-lag)
            notes.append("target leads the input by \(-lag) samples: removed")
        }
        if inverted {
            pair.target = pair.target.map { -$0 }
            notes.append("polarity is inverted: target flipped")
        }
        let common = min(pair.input.count, pair.target.count)
        if pair.input.count != pair.target.count {
            let extra = abs(pair.input.count - pair.target.count)
            notes.append("\(pair.input.count > common ? "input" : "target") has \(extra) samples more: trimmed")
            pair.input.removeLast(pair.input.count - common)
            pair.target.removeLast(pair.target.count - common)
        }
        return notes
    }

    /// One capture rig gives most pairs the same latency; a pair off by more
    /// than a couple of samples from what most pairs have is named, since a
    /// misread lag costs more than anything else in training. Nothing is
    /// changed: real sessions do mix latencies (the CL 1B recordings have 0
    /// and 67 samples).
    static func noteOddLatencies(_ checks: inout [PairCheck]) {
        guard checks.count >= 3 else { return }
        var counts: [Int: Int] = [:]
        for c in checks { counts[c.latency, default: 0] += 1 }
        guard let (common, count) = counts.max(by: { $0.value < $1.value }), count * 2 > checks.count else { return }
        for i in checks.indices where abs(checks[i].latency - common) > 2 {
            checks[i].notes.append("its latency (\(checks[i].latency) samples) differs from the \(common) of \(count) of the \(checks.count) pairs: check this pair")
        }
    }

    static func rms(_ x: [Float]) -> Double { (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))).squareRoot() }

    static func decibels(_ x: Double) -> Double { x > 0 ? (20 * Double.log10(x) * 10).rounded() / 10 : -.infinity }
}
