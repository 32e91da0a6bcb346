import Foundation
import NeuralFXCore
import NeuralFXDevices

/// Output level over input level in short windows, in dB: a compressor's
/// gain as it moves. Windows where the input is near silence are left out.
public enum GainCurve {
    public static func points(input: [Float], output: [Float], sampleRate: Double, window seconds: Double) -> [(seconds: Double, decibels: Double)] {
        let window = max(Int(sampleRate * seconds), 1)
        return stride(from: 0, to: min(input.count, output.count) - window + 1, by: window).compactMap { start in
            var inEnergy = 0.0, outEnergy = 0.0
            for i in start..<(start + window) {
                inEnergy += Double(input[i]) * Double(input[i])
                outEnergy += Double(output[i]) * Double(output[i])
            }
            guard inEnergy / Double(window) > 1e-6, outEnergy > 0 else { return nil }
            return (Double(start) / sampleRate, 10 * log10(outEnergy / inEnergy))
        }
    }
}

/// How a compressor lets the level back up after a loud passage, the slow
/// release that makes an optical compressor sound like one: a steady quiet
/// tone, a burst `burstDecibels` louder for `burstSeconds`, then the quiet
/// tone again for `recoverySeconds`. The score is the largest difference
/// between the model's and the device's gain (50 ms windows) while they
/// recover.
public struct BurstRecovery {
    public static let leadSeconds = 1.0, burstSeconds = 2.0, recoverySeconds = 3.0
    public static let quietDecibels = -30.0, burstDecibels = 24.0
    static let window = 0.05

    public let setting: [Double]
    /// Gain of each over time (seconds from the start of the signal, dB).
    public let device: [(seconds: Double, decibels: Double)]
    public let model: [(seconds: Double, decibels: Double)]
    /// The gain the model's gain computer alone applies, for a micro-TCN
    /// with one (nil otherwise): where `model` departs from it, the network
    /// beside the side-chain is changing the level.
    public let sideChain: [(seconds: Double, decibels: Double)]?
    public let signal: [Float]
    public let deviceOutput: [Float]
    public let modelOutput: [Float]

    /// Two partials, so the level is steady within each window.
    public static func signal(sampleRate: Double) -> [Float] {
        let quiet = pow(10, quietDecibels / 20), loud = quiet * pow(10, burstDecibels / 20)
        let burstStart = leadSeconds, burstEnd = leadSeconds + burstSeconds
        let n = Int((leadSeconds + burstSeconds + recoverySeconds) * sampleRate)
        return (0..<n).map { i in
            let t = Double(i) / sampleRate
            let level = t >= burstStart && t < burstEnd ? loud : quiet
            return Float(level * (0.7 * sin(2 * .pi * 220 * t) + 0.3 * sin(2 * .pi * 1330 * t)))
        }
    }

    public init(_ comparison: DeviceComparison, setting: [Double]) {
        self.setting = setting
        let rate = comparison.model.sampleRate
        signal = Self.signal(sampleRate: rate)
        deviceOutput = comparison.deviceOutput(signal, setting: setting)
        modelOutput = comparison.modelOutput(signal, setting: setting)
        device = GainCurve.points(input: signal, output: deviceOutput, sampleRate: rate, window: Self.window)
        model = GainCurve.points(input: signal, output: modelOutput, sampleRate: rate, window: Self.window)
        sideChain = Self.sideChainGains(comparison, setting: setting, signal: signal).map { [signal] gains in
            GainCurve.points(input: signal, output: zip(signal, gains).map(*), sampleRate: rate, window: Self.window)
        }
    }

    /// The largest |model gain - device gain| after the burst, in dB, and when.
    public var recoveryError: (decibels: Double, atSeconds: Double) { Self.largestGap(model, device) }

    /// The same for the gain computer alone.
    public var sideChainRecoveryError: (decibels: Double, atSeconds: Double)? { sideChain.map { Self.largestGap($0, device) } }

    static func largestGap(_ curve: [(seconds: Double, decibels: Double)], _ device: [(seconds: Double, decibels: Double)])
        -> (decibels: Double, atSeconds: Double) {
        let from = Self.leadSeconds + Self.burstSeconds
        var worst = (decibels: 0.0, atSeconds: from)
        for (d, m) in zip(device, curve) where d.seconds >= from {
            let e = abs(m.decibels - d.decibels)
            if e > worst.decibels { worst = (e, d.seconds - from) }
        }
        return worst
    }

    /// The model's gain computer run over `signal` at `setting` (the
    /// device's knob order), its knobs mapped as the engine maps them.
    static func sideChainGains(_ comparison: DeviceComparison, setting: [Double], signal: [Float]) -> [Float]? {
        guard let weights = comparison.model.blueprint as? MicroTCNWeights, let side = weights.gainComputer else { return nil }
        let c = weights.config
        let gainComputer = GainComputer(side, knobs: c.nparams, feedback: c.hasGainFeedback, opticalCell: c.hasGainCell)
        let knobs = comparison.model.knobs
        var values = knobs.defaults
        for (name, value) in zip(comparison.device.knobs.names, setting) { values[knobs.index(of: name)!] = value }
        var conditioning = [Float](repeating: 0, count: max(knobs.conditioningSize, 1))
        conditioning.withUnsafeMutableBufferPointer { knobs.conditioning(for: values, into: $0.baseAddress!) }
        conditioning.withUnsafeBufferPointer { gainComputer.setConditioning($0.baseAddress!) }
        var gains = [Float](repeating: 1, count: signal.count)
        signal.withUnsafeBufferPointer { x in
            gains.withUnsafeMutableBufferPointer { gainComputer.gains(of: x.baseAddress!, frames: signal.count, into: $0.baseAddress!) }
        }
        return gains
    }

    /// How far the device's own gain moves back up after the burst, in dB
    /// (what the model has to follow).
    public var deviceRecovery: Double {
        let after = device.filter { $0.seconds >= Self.leadSeconds + Self.burstSeconds }.map(\.decibels)
        return (after.max() ?? 0) - (after.min() ?? 0)
    }
}
