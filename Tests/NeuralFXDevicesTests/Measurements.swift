import Foundation
import NeuralFXDevices

/// Signal generators and analysers used to measure the devices the way one
/// measures hardware on the bench: tone bursts, steady sines, spectra.
enum Bench {
    static let sampleRate = 44_100.0
    /// 980 Hz: exactly 45 samples per period at 44.1 kHz, so one-period
    /// windows measure level without ripple.
    static let burstPeriod = 45

    static func decibels(_ gain: Double) -> Double { 20 * log10(gain) }
    static func gain(_ decibels: Double) -> Double { pow(10, decibels / 20) }

    static func render(_ device: any ReferenceDevice, _ input: [Float], blockSize: Int = 512) -> [Float] {
        device.output(for: input, blockSize: blockSize)
    }

    /// A sine whose level (dBFS peak) changes at the given times: segments of
    /// (seconds, dBFS).
    static func toneBursts(_ segments: [(seconds: Double, level: Double)], periodSamples: Int = burstPeriod) -> [Float] {
        var out: [Float] = []
        var phase = 0
        for segment in segments {
            let a = gain(segment.level)
            for _ in 0..<Int((segment.seconds * sampleRate).rounded()) {
                out.append(Float(a * sin(2 * Double.pi * Double(phase) / Double(periodSamples))))
                phase = (phase + 1) % periodSamples
            }
        }
        return out
    }

    static func sine(hertz: Double, level: Double, seconds: Double, rate: Double = sampleRate) -> [Float] {
        let a = gain(level)
        return (0..<Int(seconds * rate)).map { Float(a * sin(2 * Double.pi * hertz * Double($0) / rate)) }
    }

    static func rms(_ x: ArraySlice<Float>) -> Double {
        (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(x.count, 1))).squareRoot()
    }

    /// Gain reduction (dB, positive = quieter) of the burst tone per period:
    /// the tone's own DFT bin, so DC and harmonics from the output stage do
    /// not count.
    static func gainReductionTrace(input: [Float], output: [Float], window: Int = burstPeriod) -> [Double] {
        let hertz = sampleRate / Double(window)
        return stride(from: 0, to: input.count - window + 1, by: window).map { s in
            decibels(amplitude(input[s..<s + window], hertz: hertz) / max(amplitude(output[s..<s + window], hertz: hertz), 1e-30))
        }
    }

    /// Seconds from window `start` until the trace first satisfies `condition`.
    static func secondsUntil(_ trace: [Double], from start: Int, window: Int = burstPeriod,
                             _ condition: (Double) -> Bool) -> Double? {
        guard let i = trace[start...].firstIndex(where: condition) else { return nil }
        return Double((i - start) * window) / sampleRate
    }

    /// Magnitude of the DFT of `x` at `hertz` (Goertzel).
    static func amplitude(_ x: ArraySlice<Float>, hertz: Double, rate: Double = sampleRate) -> Double {
        let w = 2 * Double.pi * hertz / rate
        let c = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for v in x {
            let s0 = Double(v) + c * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - c * s1 * s2
        return 2 * max(power, 0).squareRoot() / Double(x.count)
    }

    /// Total harmonic distortion (ratio) of a steady periodic signal whose
    /// fundamental has a whole number of periods in `x`.
    static func thd(_ x: ArraySlice<Float>, fundamental: Double, rate: Double = sampleRate) -> Double {
        let f1 = amplitude(x, hertz: fundamental, rate: rate)
        var harmonics = 0.0
        var k = 2.0
        while k * fundamental < min(rate / 2, 20_000) {
            let a = amplitude(x, hertz: k * fundamental, rate: rate)
            harmonics += a * a
            k += 1
        }
        return harmonics.squareRoot() / f1
    }

    /// Power-weighted mean frequency of `x` (Hann-windowed FFT frames).
    static func spectralCentroid(_ x: [Float], frameSize: Int = 4096) -> Double {
        var power = [Double](repeating: 0, count: frameSize / 2)
        var start = 0
        while start + frameSize <= x.count {
            var re = (0..<frameSize).map { i in
                Double(x[start + i]) * (0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(frameSize)))
            }
            var im = [Double](repeating: 0, count: frameSize)
            fft(&re, &im)
            for k in 0..<frameSize / 2 { power[k] += re[k] * re[k] + im[k] * im[k] }
            start += frameSize
        }
        var weighted = 0.0, total = 0.0
        for k in 1..<frameSize / 2 {
            weighted += Double(k) * sampleRate / Double(frameSize) * power[k]
            total += power[k]
        }
        return weighted / total
    }

    /// In-place radix-2 FFT.
    static func fft(_ re: inout [Double], _ im: inout [Double]) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 {
                j ^= bit
                bit >>= 1
            }
            j |= bit
            if i < j {
                re.swapAt(i, j)
                im.swapAt(i, j)
            }
        }
        var length = 2
        while length <= n {
            let angle = -2 * Double.pi / Double(length)
            for s in stride(from: 0, to: n, by: length) {
                for k in 0..<length / 2 {
                    let wr = cos(angle * Double(k)), wi = sin(angle * Double(k))
                    let a = s + k, b = a + length / 2
                    let tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr
                    re[b] = re[a] - tr
                    im[b] = im[a] - ti
                    re[a] += tr
                    im[a] += ti
                }
            }
            length <<= 1
        }
    }
}

/// Tone-burst measurements of the optical compressor's ballistics.
enum CompressorBench {
    /// Steady gain reduction (dB) of a 980 Hz tone at `level` dBFS.
    static func steadyReduction(peak: Double, mode: OpticalCompressor.Mode, level: Double = -10,
                                rate: Double = Bench.sampleRate) -> Double {
        let c = OpticalCompressor(sampleRate: rate)
        c.setKnob(named: "peak", to: peak)
        c.setKnob(named: "mode", to: Double(mode.rawValue))
        let input = Bench.sine(hertz: 980, level: level, seconds: 3, rate: rate)
        let output = Bench.render(c, input)
        let tail = input.count - Int(rate / 2)
        return Bench.decibels(Bench.rms(input[tail...]) / Bench.rms(output[tail...]))
    }

    struct Ballistics {
        /// Reduction just before the burst ends (dB).
        var reduction: Double
        /// From burst onset to 1 - 1/e of the settled reduction.
        var attack: Double
        /// From burst end to half the reduction.
        var halfRelease: Double
        /// From burst end to a tenth of the reduction.
        var fullRelease: Double
    }

    /// A burst of `burstSeconds` at `level` dBFS after quiet, then quiet again;
    /// "quiet" is the same tone 50 dB down so gain stays measurable.
    static func ballistics(peak: Double, mode: OpticalCompressor.Mode = .compress, level: Double = -6,
                           burstSeconds: Double) -> Ballistics {
        let c = OpticalCompressor()
        c.setKnob(named: "peak", to: peak)
        c.setKnob(named: "mode", to: Double(mode.rawValue))
        let quiet = level - 50
        let input = Bench.toneBursts([(0.5, quiet), (burstSeconds, level), (12, quiet)])
        let output = Bench.render(c, input)
        let trace = Bench.gainReductionTrace(input: input, output: output)
        let window = Double(Bench.burstPeriod) / Bench.sampleRate
        let onset = Int((0.5 / window).rounded())
        let end = Int(((0.5 + burstSeconds) / window).rounded())
        let settled = trace[(end - 20)..<end].reduce(0, +) / 20
        let atBurstEnd = trace[end - 1]
        return Ballistics(
            reduction: atBurstEnd,
            attack: Bench.secondsUntil(trace, from: onset) { $0 >= (1 - exp(-1)) * settled } ?? .infinity,
            halfRelease: Bench.secondsUntil(trace, from: end) { $0 <= 0.5 * atBurstEnd } ?? .infinity,
            fullRelease: Bench.secondsUntil(trace, from: end) { $0 <= 0.1 * atBurstEnd } ?? .infinity)
    }
}

/// Steady-sine measurements of the overdrive.
enum OverdriveBench {
    static func make(drive: Double, tone: Double = 0.5, level: Double = 1) -> Overdrive {
        let d = Overdrive()
        d.setKnob(named: "drive", to: drive)
        d.setKnob(named: "tone", to: tone)
        d.setKnob(named: "level", to: level)
        return d
    }

    /// THD (harmonics up to 20 kHz) of a 441 Hz sine at `level` dBFS,
    /// measured over the last second (441 whole periods).
    static func thd(drive: Double, level: Double = -12, rate: Double = Bench.sampleRate) -> Double {
        let d = Overdrive(sampleRate: rate)
        d.setKnob(named: "drive", to: drive)
        let out = Bench.render(d, Bench.sine(hertz: 441, level: level, seconds: 1.5, rate: rate))
        return Bench.thd(out[(out.count - Int(rate))...], fundamental: 441, rate: rate)
    }

    /// Largest component (dB relative to the fundamental) of a 5 kHz sine's
    /// output that is not a harmonic: with 441 samples per 50 periods every
    /// harmonic and every alias falls on a multiple of 100 Hz.
    static func worstAlias(drive: Double = 1, level: Double = -6) -> (frequency: Double, decibels: Double) {
        let out = Bench.render(make(drive: drive), Bench.sine(hertz: 5000, level: level, seconds: 1.5))
        let steady = out[(out.count - 441 * 40)...]
        let fundamental = Bench.amplitude(steady, hertz: 5000)
        var worst = (frequency: 0.0, decibels: -Double.infinity)
        for m in 1...220 where m % 50 != 0 {
            let f = Double(m) * 100
            let db = Bench.decibels(Bench.amplitude(steady, hertz: f) / fundamental)
            if db > worst.decibels { worst = (f, db) }
        }
        return worst
    }
}
