import NeuralFXCore
import RealModule

/// The gain computer (`GainComputer`) as it trains, for one item: it runs
/// over the item's whole input (the warm-up and what the blocks see) and its
/// gains at the output frames multiply the network's output.
///
/// The gradient is exact: a reverse scan through the ballistics, the knee
/// and the detector gives each of the eight parameters its share, which the
/// knob map passes on to its weight and bias. With feedback the detector's
/// input depends on the previous gain, so the scan also carries the
/// detector's adjoint back into the previous sample's fast and slow parts.
struct GainComputerTraining<T: TrainingScalar> {
    typealias P = GainComputer.Parameter
    let knobs: Int
    /// Whether the detector hears the gained input (`GainComputer.feedback`).
    let feedback: Bool
    /// Input samples the side-chain runs over.
    let length: Int
    /// The input sample of the first output frame.
    let offset: Int
    /// Output frames.
    let frames: Int

    /// What the forward pass keeps for the backward one, per input sample.
    struct Trace {
        let raw: UnsafeMutablePointer<T>
        /// Detector power, target reduction, fast and slow parts after each sample.
        let level: UnsafeMutablePointer<T>
        let target: UnsafeMutablePointer<T>
        let fast: UnsafeMutablePointer<T>
        let slow: UnsafeMutablePointer<T>
    }

    static func traceCount(length: Int) -> Int { GainComputer.parameterCount + 4 * length }

    func trace(_ storage: UnsafeMutablePointer<T>) -> Trace {
        let n = GainComputer.parameterCount
        return Trace(raw: storage, level: storage + n, target: storage + n + length,
                     fast: storage + n + 2 * length, slow: storage + n + 3 * length)
    }

    /// The raw parameters: `bias + weight · knobs`.
    private func parameters(_ knobValues: UnsafePointer<T>, weight: UnsafePointer<T>?, bias: UnsafePointer<T>,
                            into raw: UnsafeMutablePointer<T>) {
        for i in 0..<GainComputer.parameterCount {
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
        let s = GainComputer.Settings<T>(feedback: feedback) { raw[$0] }
        let floor = T(GainComputer.floor), toDecibels = T(GainComputer.decibelsPerNeper)
        let toExponent = T(GainComputer.gainPerDecibel)
        var e: T = 0, f: T = 0, sl: T = 0
        for t in 0..<length {
            let heard = input[t] * (feedback ? T.exp(-toExponent * (f + sl)) : 1)
            e = s.detector.decay * e + s.detector.gain * (heard * heard)
            let r = s.slope * GainComputer.knee(toDecibels * T.log(e + floor) - s.threshold, width: s.width).value
            let fastTarget = (1 - s.share) * r, slowTarget = s.share * r
            f += (fastTarget > f ? s.attack : s.fastRelease) * (fastTarget - f)
            sl += (slowTarget > sl ? s.attack : s.slowRelease) * (slowTarget - sl)
            tr.level[t] = e
            tr.target[t] = r
            tr.fast[t] = f
            tr.slow[t] = sl
        }
        for i in 0..<frames {
            let t = offset + i
            gains[i] = T.exp(-toExponent * (tr.fast[t] + tr.slow[t]))
        }
    }

    /// From `gainGradient` (the loss's gradient with respect to each output
    /// frame's gain), adds the knob map's weight and bias gradients.
    func backward(_ input: UnsafePointer<T>, knobs knobValues: UnsafePointer<T>, trace storage: UnsafeMutablePointer<T>,
                  gains: UnsafePointer<T>, gainGradient: UnsafePointer<T>,
                  weightGradient: UnsafeMutablePointer<T>?, biasGradient: UnsafeMutablePointer<T>) {
        let tr = trace(storage)
        let raw = UnsafePointer(tr.raw)
        let s = GainComputer.Settings<T>(feedback: feedback) { raw[$0] }
        let floor = T(GainComputer.floor), toDecibels = T(GainComputer.decibelsPerNeper)
        let toExponent = T(GainComputer.gainPerDecibel)
        // Adjoints carried back from sample t + 1, and the sums that become
        // each parameter's gradient.
        var carryFast: T = 0, carrySlow: T = 0, carryLevel: T = 0
        var dAttack: T = 0, dFastRelease: T = 0, dSlowRelease: T = 0, dDecay: T = 0
        var dThreshold: T = 0, dSlope: T = 0, dWidth: T = 0, dShare: T = 0
        for t in stride(from: length - 1, through: 0, by: -1) {
            // Gain: g = exp(-c (F + S)), so ∂g/∂F = ∂g/∂S = -c g.
            var dReduction: T = 0
            let i = t - offset
            if i >= 0 && i < frames { dReduction = -toExponent * gains[i] * gainGradient[i] }
            let lambdaFast = dReduction + carryFast, lambdaSlow = dReduction + carrySlow
            let r = tr.target[t]
            let previousFast: T = t > 0 ? tr.fast[t - 1] : 0, previousSlow: T = t > 0 ? tr.slow[t - 1] : 0
            let fastTarget = (1 - s.share) * r, slowTarget = s.share * r
            // F[t] = F[t-1] + k (target - F[t-1]), k chosen by the direction.
            let fastRising = fastTarget > previousFast, slowRising = slowTarget > previousSlow
            let kFast = fastRising ? s.attack : s.fastRelease, kSlow = slowRising ? s.attack : s.slowRelease
            let dFastCoefficient = lambdaFast * (fastTarget - previousFast)
            let dSlowCoefficient = lambdaSlow * (slowTarget - previousSlow)
            if fastRising { dAttack += dFastCoefficient } else { dFastRelease += dFastCoefficient }
            if slowRising { dAttack += dSlowCoefficient } else { dSlowRelease += dSlowCoefficient }
            let dFastTarget = lambdaFast * kFast, dSlowTarget = lambdaSlow * kSlow
            carryFast = lambdaFast * (1 - kFast)
            carrySlow = lambdaSlow * (1 - kSlow)
            let dTarget = (1 - s.share) * dFastTarget + s.share * dSlowTarget
            dShare += r * (dSlowTarget - dFastTarget)
            // r = slope · knee(L - threshold, width).
            let e = tr.level[t]
            let level = toDecibels * T.log(e + floor)
            let k = GainComputer.knee(level - s.threshold, width: s.width)
            dSlope += dTarget * k.value
            let dOver = dTarget * s.slope * k.dOver
            dThreshold -= dOver
            dWidth += dTarget * s.slope * k.dWidth
            // L = c ln(e + floor); e[t] = a e[t-1] + (1 - a) h², h the
            // detector's input: x, or with feedback x·exp(-c (F + S)) of t - 1.
            let lambdaLevel = dOver * toDecibels / (e + floor) + carryLevel
            let previousLevel: T = t > 0 ? tr.level[t - 1] : 0
            let heard = input[t] * (feedback ? T.exp(-toExponent * (previousFast + previousSlow)) : 1)
            dDecay += lambdaLevel * (previousLevel - heard * heard)
            carryLevel = lambdaLevel * s.detector.decay
            if feedback {
                // ∂(h²)/∂F[t-1] = ∂(h²)/∂S[t-1] = -2c h².
                let dPrevious = lambdaLevel * s.detector.gain * (-2 * toExponent * heard * heard)
                carryFast += dPrevious
                carrySlow += dPrevious
            }
        }
        // From the coefficients to the raw parameters: with u = exp(-θ), the
        // decay a = exp(-u) has ∂a/∂θ = u a and the gain 1 - a has -u a.
        var dRaw = [T](repeating: 0, count: GainComputer.parameterCount)
        func uA(_ p: P) -> T { let u = T.exp(-raw[p.rawValue]); return u * T.exp(-u) }
        dRaw[P.detector.rawValue] = dDecay * uA(.detector)
        dRaw[P.attack.rawValue] = -dAttack * uA(.attack)
        dRaw[P.fastRelease.rawValue] = -dFastRelease * uA(.fastRelease)
        dRaw[P.slowRelease.rawValue] = -dSlowRelease * uA(.slowRelease)
        dRaw[P.threshold.rawValue] = dThreshold * T(GainComputer.thresholdScale)
        dRaw[P.slope.rawValue] = dSlope * (feedback ? s.slope : s.slope * (1 - s.slope))
        dRaw[P.knee.rawValue] = dWidth * s.width
        dRaw[P.slowShare.rawValue] = dShare * s.share * (1 - s.share)
        for i in 0..<GainComputer.parameterCount {
            biasGradient[i] += dRaw[i]
            if let weightGradient { for j in 0..<knobs { weightGradient[i * knobs + j] += dRaw[i] * knobValues[j] } }
        }
    }
}
