import Foundation
import NeuralFXCore
import NeuralFXDatasets

/// What a session's capture signals are made from; the same spec gives the
/// same samples, so a resumed session sends what the first run sent.
public struct CaptureSignalSpec: Codable, Equatable, Sendable {
    public var sampleRate: Int
    /// Length of one setting's signal.
    public var seconds: Double
    /// Peak level of the signal, dBFS: nothing sent goes above it.
    public var levelDBFS: Double
    public var seed: UInt64
    /// Names of the recordings mixed into the program material.
    public var clips: [String]

    /// `--level` may not go above this: a typo never sends a full-scale
    /// signal into a speaker or an amplifier input.
    public static let levelLimitDBFS = -1.0
    public static let levelFloorDBFS = -60.0
    /// The calibration part and the silences take about 10 s; a setting
    /// needs some program material after them.
    public static let minimumSeconds = 12.0
    public static let maximumSeconds = 3600.0

    enum CodingKeys: String, CodingKey { case sampleRate = "sample_rate", seconds, levelDBFS = "level_dbfs", seed, clips }

    public init(sampleRate: Int, seconds: Double, levelDBFS: Double, seed: UInt64 = 1, clips: [String] = []) throws {
        guard sampleRate >= 8000 && sampleRate <= 384_000 else { throw CaptureError("the sample rate must be within 8000...384000 Hz (got \(sampleRate))") }
        guard seconds.isFinite, seconds >= Self.minimumSeconds, seconds <= Self.maximumSeconds else {
            throw CaptureError("--seconds must be within \(Int(Self.minimumSeconds))...\(Int(Self.maximumSeconds)) (the calibration part alone takes 10 s)")
        }
        guard levelDBFS.isFinite, levelDBFS <= Self.levelLimitDBFS, levelDBFS >= Self.levelFloorDBFS else {
            throw CaptureError("--level must be within \(Int(Self.levelFloorDBFS))...\(Int(Self.levelLimitDBFS)) dBFS (got \(levelDBFS)); the signal never goes above it")
        }
        self.sampleRate = sampleRate
        self.seconds = seconds
        self.levelDBFS = levelDBFS
        self.seed = seed
        self.clips = clips
    }

    /// The hard ceiling on any sample sent, linear.
    public var ceiling: Float { Float(pow(10, levelDBFS / 20)) }
}

/// Where the parts of a capture signal are, in samples.
public struct CaptureSignalLayout: Codable, Equatable, Sendable {
    public var count: Int
    /// The level ramp: a 1 kHz tone from 40 dB below the level up to it, so
    /// the gear (and the ears near it) hear the signal arrive quietly.
    public var ramp: Range<Int>
    /// Single-sample clicks at irregular spacing (regular clicks would match
    /// a neighbour at a whole spacing's wrong latency).
    public var startClicks: [Int]
    /// Exponential sine sweep over the audible band.
    public var sweep: Range<Int>
    /// Varied program material: what the model learns from.
    public var program: Range<Int>
    /// Clicks after the program: their latency against the start clicks'
    /// shows drift between the clocks of the send and the return.
    public var endClicks: [Int]
    /// Stretch the latency is read from (start clicks and sweep).
    public var calibration: Range<Int>
}

public struct CaptureSignal: Sendable {
    public var samples: [Float]
    public var layout: CaptureSignalLayout
    public var ceiling: Float
}

extension CaptureSignal {
    static let startClickGaps = [0.21, 0.27, 0.23, 0.31, 0.25, 0.29, 0.22, 0.33]
    static let endClickGaps = [0.24, 0.30, 0.27, 0.33]

    /// Setting `index`'s signal: the calibration part is the same for every
    /// setting; the program material differs (seeded by the setting), so the
    /// session as a whole covers more material than any one setting.
    public static func make(_ spec: CaptureSignalSpec, setting index: Int, clips: [[Float]] = []) -> CaptureSignal {
        let rate = Double(spec.sampleRate)
        let ceiling = spec.ceiling
        func n(_ seconds: Double) -> Int { Int((seconds * rate).rounded()) }
        var x: [Float] = []
        x.reserveCapacity(n(spec.seconds))
        func silence(_ seconds: Double) { x.append(contentsOf: repeatElement(0, count: n(seconds))) }

        silence(0.25)
        let rampStart = x.count
        let rampLength = n(2)
        for i in 0..<rampLength {
            let fraction = Double(i) / Double(rampLength)
            let gain = pow(10, (-40 + 40 * fraction) / 20) * Double(ceiling)
            x.append(Float(gain * sin(2 * Double.pi * 1000 * Double(i) / rate)))
        }
        let ramp = rampStart..<x.count
        silence(0.1)

        var startClicks: [Int] = []
        let calibrationStart = x.count
        for gap in startClickGaps {
            silence(gap)
            startClicks.append(x.count)
            x.append(ceiling)
        }
        silence(0.3)

        let sweepStart = x.count
        let sweepLength = n(2)
        let f0 = 30.0, f1 = min(20_000, 0.45 * rate)
        let k = log(f1 / f0)
        let fade = n(0.01)
        for i in 0..<sweepLength {
            let t = Double(i) / rate, duration = Double(sweepLength) / rate
            let phase = 2 * Double.pi * f0 * duration / k * (exp(t / duration * k) - 1)
            let edge = min(1, Double(min(i, sweepLength - 1 - i)) / Double(fade))
            x.append(Float(0.5 * Double(ceiling) * edge * sin(phase)))
        }
        let sweep = sweepStart..<x.count
        silence(0.25)

        // The end clicks and the tail take what they need from the total;
        // the program fills the rest.
        let endLength = n(endClickGaps.reduce(0, +)) + endClickGaps.count + n(0.25) + n(0.5)
        let programStart = x.count
        let programLength = max(n(1), n(spec.seconds) - programStart - endLength)
        var program = DryMaterial(sampleRate: rate, clips: clips).render(seconds: Double(programLength) / rate,
                                                                        seed: spec.seed &* 0x9E37_79B9 &+ UInt64(index))
        // DryMaterial peaks at 0 dBFS at most: scaled, the loudest segments reach the level.
        for i in program.indices { program[i] *= ceiling }
        x.append(contentsOf: program.prefix(programLength))
        let programRange = programStart..<x.count
        silence(0.25)

        var endClicks: [Int] = []
        for gap in endClickGaps {
            silence(gap)
            endClicks.append(x.count)
            x.append(ceiling)
        }
        silence(0.5)

        // The hard limit: nothing the builder made may exceed the level.
        for i in x.indices { x[i] = min(max(x[i], -ceiling), ceiling) }
        let layout = CaptureSignalLayout(count: x.count, ramp: ramp, startClicks: startClicks, sweep: sweep,
                                         program: programRange, endClicks: endClicks,
                                         calibration: calibrationStart..<sweep.upperBound)
        return CaptureSignal(samples: x, layout: layout, ceiling: ceiling)
    }
}
