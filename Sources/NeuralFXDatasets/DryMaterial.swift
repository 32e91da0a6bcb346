import NeuralFXCore
import RealModule

/// Synthesised dry signals that make a device show its character: material
/// that moves (transients, decays, level steps, pauses) at levels spread over
/// -40...0 dBFS, in the frequency ranges instruments and voices occupy.
///
/// Everything is drawn from one `SplitMix64`, so a seed gives the same
/// samples on every machine and every run.
public struct DryMaterial {
    public enum Kind: String, CaseIterable, Sendable {
        case pluckedStrings, bass, drums, speechLike, sweep, toneBursts, noiseBursts
    }

    /// Loudest peak level of a segment is drawn uniformly (in dB) from here.
    public static let segmentPeakDecibels: ClosedRange<Double> = -40...0
    public static let segmentSeconds: ClosedRange<Double> = 1.5...5

    public let sampleRate: Double
    /// Recorded clips (e.g. from `examples/`) mixed in between synthesised
    /// segments; mono, at `sampleRate`.
    public var clips: [[Float]]

    public init(sampleRate: Double = 44_100, clips: [[Float]] = []) {
        self.sampleRate = sampleRate
        self.clips = clips.filter { !$0.isEmpty }
    }

    /// `seconds` of material: segments of every kind (and excerpts of the
    /// clips, when there are any) at random levels with short pauses between.
    public func render(seconds: Double, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let total = Int((seconds * sampleRate).rounded())
        var out = [Float]()
        out.reserveCapacity(total)
        while out.count < total {
            if rng.chance(0.3) { out.append(contentsOf: repeatElement(0, count: Int(rng.uniform(0.02...0.4) * sampleRate))) }
            let length = Int(rng.uniform(Self.segmentSeconds) * sampleRate)
            var segment: [Float]
            if !clips.isEmpty && rng.chance(0.3) {
                segment = excerpt(of: clips[rng.index(clips.count)], length: length, rng: &rng)
            } else {
                segment = synthesize(Kind.allCases[rng.index(Kind.allCases.count)], length: length, rng: &rng)
            }
            normalise(&segment, toPeakDecibels: rng.uniform(Self.segmentPeakDecibels))
            out.append(contentsOf: segment)
        }
        return Array(out.prefix(total))
    }

    public func synthesize(_ kind: Kind, length: Int, rng: inout SplitMix64) -> [Float] {
        var buffer = [Double](repeating: 0, count: length)
        switch kind {
        case .pluckedStrings: plucks(into: &buffer, pitches: 82...880, noteSeconds: 0.12...1.2, brightness: 0.5...1, rng: &rng)
        case .bass: plucks(into: &buffer, pitches: 41...196, noteSeconds: 0.2...1.5, brightness: 0.2...0.5, rng: &rng)
        case .drums: drums(into: &buffer, rng: &rng)
        case .speechLike: speech(into: &buffer, rng: &rng)
        case .sweep: sweep(into: &buffer, rng: &rng)
        case .toneBursts: toneBursts(into: &buffer, rng: &rng)
        case .noiseBursts: noiseBursts(into: &buffer, rng: &rng)
        }
        applyPhraseDynamics(&buffer, rng: &rng)
        return buffer.map(Float.init)
    }

    // MARK: - Generators

    /// Karplus-Strong strings: a noise-excited delay line of one period with
    /// a two-point average (loss grows with frequency) and a decay factor.
    private func plucks(into buffer: inout [Double], pitches: ClosedRange<Double>, noteSeconds: ClosedRange<Double>,
                        brightness: ClosedRange<Double>, rng: inout SplitMix64) {
        var start = 0
        while start < buffer.count {
            let hertz = pitches.lowerBound * Double.pow(pitches.upperBound / pitches.lowerBound, rng.unit())
            // Semitone grid, as an instrument plays.
            let note = (12 * Double.log2(hertz / 440)).rounded()
            let frequency = 440 * Double.pow(2, note / 12)
            let velocity = decibelsToGain(rng.uniform(-18...0))
            let ringSeconds = rng.uniform(0.5...3)
            let period = sampleRate / frequency
            let delay = max(Int(period), 2)
            var line = [Double](repeating: 0, count: delay)
            let bright = rng.uniform(brightness)
            var smoothed = 0.0
            for i in 0..<delay {
                // Excitation: noise low-passed by the pick's brightness.
                smoothed += bright * (rng.uniform(-1...1) - smoothed)
                line[i] = smoothed
            }
            let decay = Double.pow(0.001, 1 / (ringSeconds * frequency))
            let fraction = period - Double(delay)  // tuning by a first-order all-pass
            let allpass = (1 - fraction) / (1 + fraction)
            var allpassIn = 0.0, allpassOut = 0.0
            var previous = 0.0
            let end = min(buffer.count, start + Int(ringSeconds * sampleRate))
            var position = 0
            for n in start..<end {
                let current = line[position]
                let averaged = decay * 0.5 * (current + previous)
                previous = current
                let tuned = allpass * averaged + allpassIn - allpass * allpassOut
                allpassIn = averaged
                allpassOut = tuned
                line[position] = tuned
                position = position + 1 == delay ? 0 : position + 1
                buffer[n] += velocity * current
            }
            start += Int(rng.uniform(noteSeconds) * sampleRate)
        }
    }

    /// A drum pattern on a sixteenth-note grid: pitch-swept sine kicks,
    /// noise-and-tone snares, short high-passed noise hats.
    private func drums(into buffer: inout [Double], rng: inout SplitMix64) {
        let sixteenth = Int(60 / rng.uniform(80...170) / 4 * sampleRate)
        let kickSteps = Set((0..<16).filter { $0 % 4 == 0 || rng.chance(0.12) })
        let snareSteps = Set((0..<16).filter { $0 % 8 == 4 || rng.chance(0.06) })
        let hatSteps = Set((0..<16).filter { $0 % 2 == 0 || rng.chance(0.4) })
        var step = 0
        var start = 0
        while start < buffer.count {
            let accent = step % 4 == 0 ? 1.0 : decibelsToGain(rng.uniform(-14...(-2)))
            if kickSteps.contains(step % 16) { kick(into: &buffer, at: start, gain: accent, rng: &rng) }
            if snareSteps.contains(step % 16) { snare(into: &buffer, at: start, gain: accent, rng: &rng) }
            if hatSteps.contains(step % 16) { hat(into: &buffer, at: start, gain: 0.3 * accent, rng: &rng) }
            step += 1
            start += sixteenth
        }
    }

    private func kick(into buffer: inout [Double], at start: Int, gain: Double, rng: inout SplitMix64) {
        let decay = rng.uniform(0.15...0.45)
        var phase = 0.0
        for i in 0..<min(Int(decay * 4 * sampleRate), buffer.count - start) {
            let t = Double(i) / sampleRate
            phase += 2 * Double.pi * (45 + 110 * Double.exp(-t / 0.03)) / sampleRate
            buffer[start + i] += gain * Double.exp(-t / decay) * Double.sin(phase)
        }
    }

    private func snare(into buffer: inout [Double], at start: Int, gain: Double, rng: inout SplitMix64) {
        let decay = rng.uniform(0.08...0.2)
        var bandPass = Resonator(hertz: rng.uniform(1500...3500), bandwidth: 2500, sampleRate: sampleRate)
        for i in 0..<min(Int(decay * 5 * sampleRate), buffer.count - start) {
            let t = Double(i) / sampleRate
            let body = 0.5 * Double.sin(2 * Double.pi * 185 * t) * Double.exp(-t / 0.05)
            buffer[start + i] += gain * (body + 2 * bandPass.process(rng.uniform(-1...1)) * Double.exp(-t / decay))
        }
    }

    private func hat(into buffer: inout [Double], at start: Int, gain: Double, rng: inout SplitMix64) {
        let decay = rng.uniform(0.015...0.09)
        var previous = 0.0
        for i in 0..<min(Int(decay * 5 * sampleRate), buffer.count - start) {
            let noise = rng.uniform(-1...1)
            buffer[start + i] += gain * (noise - previous) * Double.exp(-Double(i) / sampleRate / decay)
            previous = noise
        }
    }

    /// Speech-like bursts: a glottal pulse train with gliding pitch through
    /// three formant resonators, shaped into syllables separated by pauses.
    private func speech(into buffer: inout [Double], rng: inout SplitMix64) {
        let vowels: [[Double]] = [[730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480],
                                  [570, 840, 2410], [440, 1020, 2240], [660, 1720, 2410]]
        var start = 0
        let basePitch = rng.uniform(85...240)
        while start < buffer.count {
            let syllable = Int(rng.uniform(0.08...0.35) * sampleRate)
            let formants = vowels[rng.index(vowels.count)]
            var resonators = formants.enumerated().map { i, f in
                Resonator(hertz: f, bandwidth: 60 + 40 * Double(i), sampleRate: sampleRate)
            }
            let pitchStart = basePitch * rng.uniform(0.85...1.2), pitchEnd = basePitch * rng.uniform(0.8...1.15)
            let loudness = decibelsToGain(rng.uniform(-15...0))
            let breathiness = rng.uniform(0.02...0.15)
            var phase = 0.0
            for i in 0..<min(syllable, buffer.count - start) {
                let x = Double(i) / Double(syllable)
                let pitch = pitchStart + (pitchEnd - pitchStart) * x
                phase += pitch / sampleRate
                var excitation = breathiness * rng.uniform(-1...1)
                if phase >= 1 {
                    phase -= 1
                    excitation += 1
                }
                var voiced = 0.0
                for r in resonators.indices { voiced += resonators[r].process(excitation) / Double(r + 1) }
                // Syllable envelope: quick rise, slower fall.
                let envelope = Double.sin(Double.pi * Double.pow(x, 0.6))
                buffer[start + i] += loudness * envelope * voiced
            }
            start += syllable + (rng.chance(0.3) ? Int(rng.uniform(0.1...0.5) * sampleRate) : Int(0.02 * sampleRate))
        }
    }

    /// An exponential sine sweep, up or down, between bass and high treble.
    private func sweep(into buffer: inout [Double], rng: inout SplitMix64) {
        let low = rng.uniform(20...80), high = rng.uniform(8000...20000)
        let rising = rng.chance(0.5)
        let ratio = Double.log(high / low)
        var phase = 0.0
        let count = Double(buffer.count)
        for n in buffer.indices {
            let x = rising ? Double(n) / count : 1 - Double(n) / count
            phase += 2 * Double.pi * low * Double.exp(ratio * x) / sampleRate
            buffer[n] = Double.sin(phase)
        }
    }

    /// Sine bursts with abrupt level steps and gaps: the classic probe of a
    /// compressor's attack and release.
    private func toneBursts(into buffer: inout [Double], rng: inout SplitMix64) {
        var start = 0
        var phase = 0.0
        while start < buffer.count {
            let length = Int(rng.uniform(0.03...1.5) * sampleRate)
            let hertz = 50 * Double.pow(100, rng.unit())
            let gain = rng.chance(0.25) ? 0 : decibelsToGain(rng.uniform(-30...0))
            for n in start..<min(start + length, buffer.count) {
                phase += 2 * Double.pi * hertz / sampleRate
                buffer[n] = gain * Double.sin(phase)
            }
            start += length
        }
    }

    /// White or pink-ish noise bursts with random attack and decay.
    private func noiseBursts(into buffer: inout [Double], rng: inout SplitMix64) {
        var start = 0
        var pink = 0.0
        while start < buffer.count {
            let length = Int(rng.uniform(0.05...1.2) * sampleRate)
            let attack = rng.uniform(0.001...0.1) * sampleRate, decay = rng.uniform(0.02...0.8) * sampleRate
            let gain = decibelsToGain(rng.uniform(-24...0))
            let tint = rng.uniform(0...0.98)  // 0: white; near 1: dark
            for i in 0..<min(length, buffer.count - start) {
                pink = tint * pink + (1 - tint) * rng.uniform(-1...1)
                let envelope = min(Double(i) / attack, 1) * Double.exp(-Double(i) / decay)
                buffer[start + i] = gain * envelope * pink / max(1 - tint, 0.1)
            }
            start += length + Int(rng.uniform(0...0.3) * sampleRate)
        }
    }

    /// A slow swell or fade across the whole segment, as players do.
    private func applyPhraseDynamics(_ buffer: inout [Double], rng: inout SplitMix64) {
        let from = rng.uniform(-12...0), to = rng.uniform(-12...0)
        let count = Double(max(buffer.count - 1, 1))
        for n in buffer.indices { buffer[n] *= decibelsToGain(from + (to - from) * Double(n) / count) }
    }

    private func excerpt(of clip: [Float], length: Int, rng: inout SplitMix64) -> [Float] {
        let start = clip.count > length ? rng.index(clip.count - length) : 0
        var piece = Array(clip[start..<min(clip.count, start + length)])
        // Short fades so the cut does not click.
        let fade = min(256, piece.count / 2)
        for i in 0..<fade {
            let g = Float(i) / Float(fade)
            piece[i] *= g
            piece[piece.count - 1 - i] *= g
        }
        return piece
    }

    private func normalise(_ x: inout [Float], toPeakDecibels decibels: Double) {
        let peak = x.reduce(Float(0)) { max($0, abs($1)) }
        guard peak > 0 else { return }
        let g = Float(decibelsToGain(decibels)) / peak
        for i in x.indices { x[i] *= g }
    }
}

/// Two-pole band-pass resonator (constant peak gain).
struct Resonator {
    private let a1: Double, a2: Double, b0: Double
    private var y1 = 0.0, y2 = 0.0

    init(hertz: Double, bandwidth: Double, sampleRate: Double) {
        let r = Double.exp(-Double.pi * bandwidth / sampleRate)
        a1 = -2 * r * Double.cos(2 * Double.pi * hertz / sampleRate)
        a2 = r * r
        b0 = 1 - r
    }

    mutating func process(_ x: Double) -> Double {
        let y = b0 * x - a1 * y1 - a2 * y2
        y2 = y1
        y1 = y
        return y
    }
}

func decibelsToGain(_ decibels: Double) -> Double { Double.pow(10, decibels / 20) }

extension SplitMix64 {
    mutating func unit() -> Double { nextUnitDouble() }
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitDouble()
    }
    mutating func chance(_ p: Double) -> Bool { nextUnitDouble() < p }
    /// Uniform in 0..<n.
    mutating func index(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
