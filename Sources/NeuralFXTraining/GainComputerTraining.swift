import NeuralFXCore
import RealModule

/// The gain computer (`GainComputer`) as it trains, for one item: it runs
/// over the item's whole input (the warm-up and what the blocks see) and its
/// gains at the output frames multiply the network's output.
///
/// The gradient is exact: a reverse scan through the ballistics, the knee
/// and the detector gives each of the eight (or thirteen) parameters its
/// share, which the knob map passes on to its weight and bias. With feedback
/// the detector's input depends on the previous gain, so the scan also
/// carries the detector's adjoint back into the previous sample's fast and
/// slow parts; with the optical cell it carries the memory's adjoint, which
/// reaches it from the heaviness (through the reduction) and the slow
/// release's time.
struct GainComputerTraining<T: TrainingScalar> {
    typealias P = GainComputer.Parameter
    let knobs: Int
    /// Whether the detector hears the gained input (`GainComputer.feedback`).
    let feedback: Bool
    /// Whether it is the optical cell (`GainComputer.opticalCell`).
    let opticalCell: Bool
    /// Input samples the side-chain runs over.
    let length: Int
    /// The input sample of the first output frame.
    let offset: Int
    /// Output frames.
    let frames: Int

    var parameterCount: Int { GainComputer.parameterCount(opticalCell: opticalCell) }

    /// What the forward pass keeps for the backward one, per input sample.
    struct Trace {
        let raw: UnsafeMutablePointer<T>
        /// Detector level (power, or the cell's peak), target reduction,
        /// fast and slow parts and the cell's memory after each sample.
        let level: UnsafeMutablePointer<T>
        let target: UnsafeMutablePointer<T>
        let fast: UnsafeMutablePointer<T>
        let slow: UnsafeMutablePointer<T>
        let memory: UnsafeMutablePointer<T>
    }

    static func traceCount(length: Int, opticalCell: Bool) -> Int {
        GainComputer.parameterCount(opticalCell: opticalCell) + (opticalCell ? 5 : 4) * length
    }

    func trace(_ storage: UnsafeMutablePointer<T>) -> Trace {
        let n = parameterCount
        return Trace(raw: storage, level: storage + n, target: storage + n + length,
                     fast: storage + n + 2 * length, slow: storage + n + 3 * length, memory: storage + n + 4 * length)
    }

    /// The raw parameters: `bias + weight · knobs`.
    private func parameters(_ knobValues: UnsafePointer<T>, weight: UnsafePointer<T>?, bias: UnsafePointer<T>,
                            into raw: UnsafeMutablePointer<T>) {
        for i in 0..<parameterCount {
            var sum = bias[i]
            if let weight { for j in 0..<knobs { sum += weight[i * knobs + j] * knobValues[j] } }
            raw[i] = sum
        }
    }

    /// Runs the side-chain over `input` and writes the gains of the output frames.
    func forward(_ input: UnsafePointer<T>, knobs knobValues: UnsafePointer<T>, weight: UnsafePointer<T>?,
                 bias: UnsafePointer<T>, trace storage: UnsafeMutablePointer<T>, gains: UnsafeMutablePointer<T>) {
        let tr = trace(storage)
        parameters(knobValues, weight: weight, bias: bias, into: tr.raw)
        let raw = UnsafePointer(tr.raw)
        let s = GainComputer.Settings<T>(feedback: feedback, opticalCell: opticalCell) { raw[$0] }
        let floor = T(GainComputer.floor), toDecibels = T(GainComputer.decibelsPerNeper)
        let toExponent = T(GainComputer.gainPerDecibel)
        var state = GainComputerState<T>()
        for t in 0..<length {
            let heard = input[t] * (feedback ? T.exp(-toExponent * state.reduction) : 1)
            tr.target[t] = state.step(heard, s, opticalCell: opticalCell, toDecibels: toDecibels, floor: floor)
            tr.level[t] = state.level
            tr.fast[t] = state.fast
            tr.slow[t] = state.slow
            if opticalCell { tr.memory[t] = state.memory }
        }
        for i in 0..<frames {
            let t = offset + i
            gains[i] = T.exp(-toExponent * (tr.fast[t] + tr.slow[t]))
        }
    }

    /// The adjoints the reverse scan sums into each parameter's gradient:
    /// with respect to the coefficients, times and scales of `Settings`.
    private struct Sums {
        var attack: T = 0, fastRelease: T = 0, slowRelease: T = 0, detectorDecay: T = 0
        var threshold: T = 0, slope: T = 0, width: T = 0, share: T = 0
        var detectorAttack: T = 0, detectorRelease: T = 0, slowReleaseSamples: T = 0, slowReleaseGrowth: T = 0
        var memoryScale: T = 0, memoryCharge: T = 0, memoryDecay: T = 0
    }

    /// From `gainGradient` (the loss's gradient with respect to each output
    /// frame's gain), adds the knob map's weight and bias gradients.
    func backward(_ input: UnsafePointer<T>, knobs knobValues: UnsafePointer<T>, trace storage: UnsafeMutablePointer<T>,
                  gains: UnsafePointer<T>, gainGradient: UnsafePointer<T>,
                  weightGradient: UnsafeMutablePointer<T>?, biasGradient: UnsafeMutablePointer<T>) {
        let tr = trace(storage)
        let raw = UnsafePointer(tr.raw)
        let s = GainComputer.Settings<T>(feedback: feedback, opticalCell: opticalCell) { raw[$0] }
        let floor = T(GainComputer.floor), toDecibels = T(GainComputer.decibelsPerNeper)
        let toExponent = T(GainComputer.gainPerDecibel)
        // Adjoints carried back from sample t + 1, and the sums that become
        // each parameter's gradient.
        var carryFast: T = 0, carrySlow: T = 0, carryLevel: T = 0, carryMemory: T = 0
        var d = Sums()
        for t in stride(from: length - 1, through: 0, by: -1) {
            // Gain: g = exp(-c (F + S)), so ∂g/∂F = ∂g/∂S = -c g.
            var dReduction: T = 0
            let i = t - offset
            if i >= 0 && i < frames { dReduction = -toExponent * gains[i] * gainGradient[i] }
            var lambdaFast = dReduction + carryFast, lambdaSlow = dReduction + carrySlow
            let previousMemory: T = opticalCell && t > 0 ? tr.memory[t - 1] : 0
            var dPreviousMemory: T = 0
            if opticalCell {
                // m[t] = m[t-1] + k (h - m[t-1]), h = min((F + S) / H, 1).
                let reduction = tr.fast[t] + tr.slow[t]
                let over = reduction / s.memoryScale
                let heaviness = min(over, 1)
                let charging = heaviness > previousMemory
                let k = charging ? s.memoryCharge : s.memoryDecay
                let dCoefficient = carryMemory * (heaviness - previousMemory)
                if charging { d.memoryCharge += dCoefficient } else { d.memoryDecay += dCoefficient }
                dPreviousMemory += carryMemory * (1 - k)
                if over < 1 {
                    let dHeaviness = carryMemory * k
                    lambdaFast += dHeaviness / s.memoryScale
                    lambdaSlow += dHeaviness / s.memoryScale
                    d.memoryScale -= dHeaviness * over / s.memoryScale
                }
            }
            let r = tr.target[t]
            let previousFast: T = t > 0 ? tr.fast[t - 1] : 0, previousSlow: T = t > 0 ? tr.slow[t - 1] : 0
            let fastTarget = (1 - s.share) * r, slowTarget = s.share * r
            // F[t] = F[t-1] + k (target - F[t-1]), k chosen by the direction.
            let fastRising = fastTarget > previousFast, slowRising = slowTarget > previousSlow
            let kFast = fastRising ? s.attack : s.fastRelease
            let kSlow = slowRising ? s.attack : opticalCell ? s.cellSlowRelease(memory: previousMemory) : s.slowRelease
            let dFastCoefficient = lambdaFast * (fastTarget - previousFast)
            let dSlowCoefficient = lambdaSlow * (slowTarget - previousSlow)
            if fastRising { d.attack += dFastCoefficient } else { d.fastRelease += dFastCoefficient }
            if slowRising {
                d.attack += dSlowCoefficient
            } else if opticalCell {
                // k = 1 - exp(-1/τ), τ = τ₀ + τ₁ m[t-1]: ∂k/∂τ = -(1 - k)/τ².
                let tau = s.slowReleaseSamples + s.slowReleaseGrowth * previousMemory
                let dTau = -dSlowCoefficient * (1 - kSlow) / (tau * tau)
                d.slowReleaseSamples += dTau
                d.slowReleaseGrowth += dTau * previousMemory
                dPreviousMemory += dTau * s.slowReleaseGrowth
            } else {
                d.slowRelease += dSlowCoefficient
            }
            let dFastTarget = lambdaFast * kFast, dSlowTarget = lambdaSlow * kSlow
            carryFast = lambdaFast * (1 - kFast)
            carrySlow = lambdaSlow * (1 - kSlow)
            carryMemory = dPreviousMemory
            let dTarget = (1 - s.share) * dFastTarget + s.share * dSlowTarget
            d.share += r * (dSlowTarget - dFastTarget)
            // r = slope · knee(L - threshold, width).
            let e = tr.level[t]
            let level = toDecibels * T.log(opticalCell ? e * e + floor : e + floor)
            let knee = GainComputer.knee(level - s.threshold, width: s.width)
            d.slope += dTarget * knee.value
            let dOver = dTarget * s.slope * knee.dOver
            d.threshold -= dOver
            d.width += dTarget * s.slope * knee.dWidth
            let previousLevel: T = t > 0 ? tr.level[t - 1] : 0
            let heard = input[t] * (feedback ? T.exp(-toExponent * (previousFast + previousSlow)) : 1)
            if opticalCell {
                // L = c ln(e² + floor); e[t] = e[t-1] + k (|h| - e[t-1]), k
                // the attack while |h| > e[t-1], the release otherwise.
                let lambdaLevel = dOver * toDecibels * 2 * e / (e * e + floor) + carryLevel
                let peak = abs(heard)
                let rising = peak > previousLevel
                let k = rising ? s.detector.gain : s.detectorRelease
                let dCoefficient = lambdaLevel * (peak - previousLevel)
                if rising { d.detectorAttack += dCoefficient } else { d.detectorRelease += dCoefficient }
                carryLevel = lambdaLevel * (1 - k)
                if feedback {
                    // ∂|h|/∂F[t-1] = ∂|h|/∂S[t-1] = -c |h|.
                    let dPrevious = lambdaLevel * k * (-toExponent * peak)
                    carryFast += dPrevious
                    carrySlow += dPrevious
                }
            } else {
                // L = c ln(e + floor); e[t] = a e[t-1] + (1 - a) h², h the
                // detector's input: x, or with feedback x·exp(-c (F + S)) of t - 1.
                let lambdaLevel = dOver * toDecibels / (e + floor) + carryLevel
                d.detectorDecay += lambdaLevel * (previousLevel - heard * heard)
                carryLevel = lambdaLevel * s.detector.decay
                if feedback {
                    // ∂(h²)/∂F[t-1] = ∂(h²)/∂S[t-1] = -2c h².
                    let dPrevious = lambdaLevel * s.detector.gain * (-2 * toExponent * heard * heard)
                    carryFast += dPrevious
                    carrySlow += dPrevious
                }
            }
        }
        // From the coefficients to the raw parameters: with u = exp(-θ), the
        // decay a = exp(-u) has ∂a/∂θ = u a and the gain 1 - a has -u a.
        var dRaw = [T](repeating: 0, count: parameterCount)
        func uA(_ p: P) -> T { let u = T.exp(-raw[p.rawValue]); return u * T.exp(-u) }
        dRaw[P.attack.rawValue] = -d.attack * uA(.attack)
        dRaw[P.fastRelease.rawValue] = -d.fastRelease * uA(.fastRelease)
        dRaw[P.threshold.rawValue] = d.threshold * T(GainComputer.thresholdScale)
        dRaw[P.slope.rawValue] = d.slope * (feedback ? s.slope : s.slope * (1 - s.slope))
        dRaw[P.knee.rawValue] = d.width * s.width
        dRaw[P.slowShare.rawValue] = d.share * s.share * (1 - s.share)
        if opticalCell {
            dRaw[P.detector.rawValue] = -d.detectorAttack * uA(.detector)
            dRaw[P.detectorRelease.rawValue] = -d.detectorRelease * uA(.detectorRelease)
            // τ₀ = exp(θ), τ₁ = exp(θ'), H = H₀ exp(θ''): each its own derivative.
            dRaw[P.slowRelease.rawValue] = d.slowReleaseSamples * s.slowReleaseSamples
            dRaw[P.slowReleaseGrowth.rawValue] = d.slowReleaseGrowth * s.slowReleaseGrowth
            dRaw[P.memoryScale.rawValue] = d.memoryScale * s.memoryScale
            dRaw[P.memoryCharge.rawValue] = -d.memoryCharge * uA(.memoryCharge)
            dRaw[P.memoryDecay.rawValue] = -d.memoryDecay * uA(.memoryDecay)
        } else {
            dRaw[P.detector.rawValue] = d.detectorDecay * uA(.detector)
            dRaw[P.slowRelease.rawValue] = -d.slowRelease * uA(.slowRelease)
        }
        for i in 0..<parameterCount {
            biasGradient[i] += dRaw[i]
            if let weightGradient { for j in 0..<knobs { weightGradient[i * knobs + j] += dRaw[i] * knobValues[j] } }
        }
    }
}
