import Foundation

/// Integrated loudness (ITU-R BS.1770-4, in LUFS) and sample peak of a
/// stream, fed block by block.
///
/// Every channel is K-weighted (the standard's two biquads, derived for any
/// sample rate from their analog prototypes), squared and summed with weight
/// 1 (no surround channels get 1.41: the files here are mono or stereo).
/// Gating blocks are 400 ms with 75 % overlap, built from 100 ms hops; blocks
/// under -70 LUFS are dropped, then those more than 10 LU below the loudness
/// of the rest. Memory grows by one number per 100 ms of audio (about 290 kB
/// for an hour).
public final class LoudnessMeter {
    public let sampleRate: Double
    public let channels: Int

    private var filters: [KWeightingFilter]
    private let hopFrames: Int
    private var hopEnergy = 0.0
    private var hopFill = 0
    /// Mean-square energies (channels summed) of the hops so far.
    private var hops: [Double] = []
    private var peakValue: Float = 0

    public init(sampleRate: Double, channels: Int) {
        precondition(sampleRate > 0 && channels > 0)
        self.sampleRate = sampleRate
        self.channels = channels
        filters = (0..<channels).map { _ in KWeightingFilter(sampleRate: sampleRate) }
        hopFrames = max(Int((sampleRate * 0.1).rounded()), 1)
    }

    /// Feeds interleaved frames.
    public func process(_ interleaved: UnsafePointer<Float>, frames: Int) {
        var peak = peakValue
        for i in 0..<frames {
            var sum = 0.0
            for c in 0..<channels {
                let x = interleaved[i * channels + c]
                peak = max(peak, abs(x))
                let y = filters[c].process(Double(x))
                sum += y * y
            }
            hopEnergy += sum
            hopFill += 1
            if hopFill == hopFrames {
                hops.append(hopEnergy / Double(hopFrames))
                hopEnergy = 0
                hopFill = 0
            }
        }
        peakValue = peak
    }

    /// The largest absolute sample value seen (1 = full scale).
    public var samplePeak: Float { peakValue }

    /// The sample peak in dBFS (-inf for silence).
    public var samplePeakDecibels: Double { 20 * log10(Double(peakValue)) }

    /// Integrated loudness in LUFS; -inf when no 400 ms block passes the gates
    /// (silence, or less than 400 ms of audio).
    public var integratedLoudness: Double {
        guard hops.count >= 4 else { return -.infinity }
        var blocks: [Double] = []
        blocks.reserveCapacity(hops.count - 3)
        for j in 3..<hops.count { blocks.append((hops[j - 3] + hops[j - 2] + hops[j - 1] + hops[j]) / 4) }
        let absoluteGate = energy(ofLoudness: -70)
        let aboveAbsolute = blocks.filter { $0 > absoluteGate }
        guard !aboveAbsolute.isEmpty else { return -.infinity }
        let relativeGate = mean(aboveAbsolute) * pow(10, -10.0 / 10)
        let gated = aboveAbsolute.filter { $0 > relativeGate }
        guard !gated.isEmpty else { return -.infinity }
        return loudness(ofEnergy: mean(gated))
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
    private func loudness(ofEnergy z: Double) -> Double { -0.691 + 10 * log10(z) }
    private func energy(ofLoudness l: Double) -> Double { pow(10, (l + 0.691) / 10) }
}

/// A biquad in direct form II transposed, in double precision (the shelf's
/// poles sit close to the unit circle at high rates).
public struct Biquad: Equatable, Sendable {
    public var b0, b1, b2, a1, a2: Double
    private var s1 = 0.0, s2 = 0.0

    public init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        self.b0 = b0; self.b1 = b1; self.b2 = b2; self.a1 = a1; self.a2 = a2
    }

    public mutating func process(_ x: Double) -> Double {
        let y = b0 * x + s1
        s1 = b1 * x - a1 * y + s2
        s2 = b2 * x - a2 * y
        return y
    }
}

/// BS.1770's K-weighting: a high shelf (+4 dB above about 1.7 kHz, the head's
/// effect) followed by a high-pass (the RLB curve around 38 Hz).
public struct KWeightingFilter: Sendable {
    public private(set) var shelf: Biquad
    public private(set) var highPass: Biquad

    public init(sampleRate fs: Double) {
        // Analog prototypes whose bilinear transforms at 48 kHz give the
        // coefficients tabulated in BS.1770.
        let shelfFrequency = 1681.974450955533, shelfGainDB = 3.999843853973347, shelfQ = 0.7071752369554196
        let k = tan(Double.pi * shelfFrequency / fs)
        let vh = pow(10, shelfGainDB / 20)
        let vb = pow(vh, 0.4996667741545416)
        let a0 = 1 + k / shelfQ + k * k
        shelf = Biquad(b0: (vh + vb * k / shelfQ + k * k) / a0, b1: 2 * (k * k - vh) / a0,
                       b2: (vh - vb * k / shelfQ + k * k) / a0,
                       a1: 2 * (k * k - 1) / a0, a2: (1 - k / shelfQ + k * k) / a0)
        let highPassFrequency = 38.13547087602444, highPassQ = 0.5003270373238773
        let kh = tan(Double.pi * highPassFrequency / fs)
        let ah = 1 + kh / highPassQ + kh * kh
        highPass = Biquad(b0: 1, b1: -2, b2: 1, a1: 2 * (kh * kh - 1) / ah, a2: (1 - kh / highPassQ + kh * kh) / ah)
    }

    public mutating func process(_ x: Double) -> Double { highPass.process(shelf.process(x)) }
}
