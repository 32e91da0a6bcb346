import Foundation
import NeuralFXCore

/// A network to measure: a name for reports, how to build it, and what to
/// feed its conditioning inputs.
public struct BenchSubject: Sendable {
    public var name: String
    public var blueprint: any NetworkBlueprint
    public var sampleRate: Double
    public var conditioning: [Float]

    public init(name: String, blueprint: any NetworkBlueprint, sampleRate: Double, conditioning: [Float]) {
        precondition(conditioning.count == blueprint.conditioningSize)
        self.name = name
        self.blueprint = blueprint
        self.sampleRate = sampleRate
        self.conditioning = conditioning
    }

    /// A named micro-tcn configuration with random weights and every knob at 0.5.
    public static func microTCN(_ configName: String, sampleRate: Double = 44_100) -> BenchSubject? {
        guard let config = MicroTCNConfig.named(configName, nparams: 2) else { return nil }
        return BenchSubject(name: configName, blueprint: MicroTCNWeights.random(config, seed: 1),
                            sampleRate: sampleRate, conditioning: [Float](repeating: 0.5, count: 2))
    }
}

/// How long and how often to measure.
public struct BenchSettings: Sendable {
    /// Seconds of audio per timed run.
    public var audioSeconds: Double = 2
    /// Timed runs per cell (after one untimed warm-up run).
    public var repetitions: Int = 7

    public init(audioSeconds: Double = 2, repetitions: Int = 7) {
        precondition(audioSeconds > 0 && repetitions > 0)
        self.audioSeconds = audioSeconds
        self.repetitions = repetitions
    }
}

/// Times networks on this thread: streaming at fixed block sizes, and whole
/// files in one call.
public struct StreamingBenchmark {
    public let settings: BenchSettings
    /// Measures the single-core peak between timed runs, to express each
    /// row's speed as a fraction of the peak beside it.
    let peak: PeakThroughput.Probe

    public init(settings: BenchSettings) {
        self.settings = settings
        peak = PeakThroughput.Probe(seconds: 0.03)
    }

    /// A deterministic test signal: a few partials plus noise, at a level a
    /// guitar DI might have.
    public static func signal(frames: Int, sampleRate: Double) -> [Float] {
        var rng = SplitMix64(seed: 42)
        return (0..<frames).map { n in
            let t = Double(n) / sampleRate
            let tone = 0.3 * sin(2 * .pi * 110 * t) + 0.1 * sin(2 * .pi * 331 * t)
            return Float(tone) + 0.05 * rng.nextFloat(in: -1...1)
        }
    }

    public func measure(_ subject: BenchSubject, blockSizes: [Int], offline: Bool) -> ModelReport {
        let frames = max(Int(settings.audioSeconds * subject.sampleRate), 1)
        let input = StreamingBenchmark.signal(frames: frames, sampleRate: subject.sampleRate)
        var output = [Float](repeating: 0, count: frames)
        let probe = subject.blueprint.makeNetwork()
        var report = ModelReport(name: subject.name, architecture: subject.blueprint.architectureName,
                                 sampleRate: subject.sampleRate, receptiveField: probe.receptiveField,
                                 multiplyAddsPerSample: probe.multiplyAddsPerSample)
        for block in blockSizes {
            report.streaming.append(cell(subject, blockSize: min(block, frames), input: input, output: &output,
                                         multiplyAdds: probe.multiplyAddsPerSample))
        }
        if offline {
            var cell = cell(subject, blockSize: frames, input: input, output: &output,
                            multiplyAdds: probe.multiplyAddsPerSample)
            cell.blockSize = frames
            report.offline = cell
        }
        return report
    }

    private func cell(_ subject: BenchSubject, blockSize: Int, input: [Float], output: inout [Float],
                      multiplyAdds: Int) -> CellReport {
        let network = subject.blueprint.makeNetwork()
        network.prepare(maxBlockSize: blockSize)
        subject.conditioning.withUnsafeBufferPointer { c in
            if let base = c.baseAddress { network.setConditioning(base) }
        }
        let audioSeconds = Double(input.count) / subject.sampleRate
        var wall: [Double] = [], cpu: [Double] = [], peaks: [Double] = []
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for run in 0...settings.repetitions {
                    if run > 0 { peaks.append(peak.measure()) }
                    network.reset()
                    let t = Stopwatch.measure {
                        StreamingBenchmark.run(network, x.baseAddress!, y.baseAddress!, frames: x.count, block: blockSize)
                    }
                    if run > 0 { wall.append(t.wall); cpu.append(t.cpu) }
                }
            }
        }
        let rtf = Spread(wall.map { $0 / audioSeconds }), cpuRTF = Spread(cpu.map { $0 / audioSeconds })
        // Arithmetic rate by CPU time, like the peak it is compared with.
        let flops = 2 * Double(multiplyAdds) * subject.sampleRate / cpuRTF.median * 1e-9
        let rowPeak = Spread(peaks).median
        return CellReport(blockSize: blockSize, realTimeFactor: rtf, cpuRealTimeFactor: cpuRTF, gflops: flops,
                          peakGFLOPs: rowPeak, fractionOfPeak: flops / rowPeak, stateBytes: network.stateBytes,
                          megasamplesPerSecond: 1e-6 / (rtf.median / subject.sampleRate))
    }

    @inline(never)
    static func run(_ network: any StreamingNetwork, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    frames: Int, block: Int) {
        var at = 0
        while at < frames {
            let n = min(block, frames - at)
            network.process(x + at, y + at, frameCount: n)
            at += n
        }
    }
}
