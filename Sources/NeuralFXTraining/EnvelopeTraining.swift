import NeuralFXCore
import RealModule

/// The envelope side-chain (`EnvelopeSideChain`) as it trains, for one item:
/// the smoothers run over the item's whole input (the warm-up prefix and
/// the network's own input), and the features of the frames block 0
/// outputs are projected into its convolution output.
///
/// The gradient is exact: back through the projection and the log, then a
/// reverse scan through the recurrence gives every time constant's share,
/// the warm-up included.
struct EnvelopeTraining<T: TrainingScalar> {
    /// K.
    let channels: Int
    /// Block 0's convolution channels.
    let outChannels: Int
    /// Input samples the smoothers run over.
    let length: Int
    /// The input sample of block 0's first output frame.
    let offset: Int
    /// Block 0's output frames.
    let frames: Int

    /// Fills `levels` (`length x K`, sample-major) and `features`
    /// (`frames x K`) from `input`, and adds the projected features to `z`
    /// (`frames x outChannels`).
    func forward(_ input: UnsafePointer<T>, logTimeConstants θ: UnsafePointer<T>, projection w: UnsafePointer<T>,
                 levels: UnsafeMutablePointer<T>, features: UnsafeMutablePointer<T>, into z: UnsafeMutablePointer<T>) {
        let k = channels, cc = outChannels
        let floor = T(EnvelopeSideChain.floor), scale = T(EnvelopeSideChain.featureScale)
        for ch in 0..<k {
            let (a, g) = EnvelopeSideChain.coefficients(logTimeConstant: θ[ch])
            var e: T = 0
            for t in 0..<length {
                e = a * e + g * (input[t] * input[t])
                levels[t * k + ch] = e
            }
            for i in 0..<frames { features[i * k + ch] = scale * T.log(levels[(offset + i) * k + ch] + floor) }
        }
        for i in 0..<frames {
            let f = features + i * k, dst = z + i * cc
            for o in 0..<cc {
                var sum: T = 0
                for ch in 0..<k { sum += w[o * k + ch] * f[ch] }
                dst[o] += sum
            }
        }
    }

    /// From `dz`, the gradient of block 0's convolution output, adds the
    /// gradients of the projection and the log time constants.
    /// `scratch` holds `length` values.
    func backward(_ input: UnsafePointer<T>, logTimeConstants θ: UnsafePointer<T>, projection w: UnsafePointer<T>,
                  levels: UnsafePointer<T>, features: UnsafePointer<T>, outputGradient dz: UnsafePointer<T>,
                  scratch: UnsafeMutablePointer<T>, logTimeConstantGradient dθ: UnsafeMutablePointer<T>,
                  projectionGradient dw: UnsafeMutablePointer<T>) {
        let k = channels, cc = outChannels
        let floor = T(EnvelopeSideChain.floor), scale = T(EnvelopeSideChain.featureScale)
        for i in 0..<frames {
            let f = features + i * k, g = dz + i * cc
            for o in 0..<cc { for ch in 0..<k { dw[o * k + ch] += g[o] * f[ch] } }
        }
        for ch in 0..<k {
            // The loss's gradient with respect to each level, directly (through
            // this channel's feature) ...
            let direct = scratch
            direct.update(repeating: 0, count: length)
            for i in 0..<frames {
                let g = dz + i * cc
                var df: T = 0
                for o in 0..<cc { df += w[o * k + ch] * g[o] }
                direct[offset + i] = df * scale / (levels[(offset + i) * k + ch] + floor)
            }
            // ... then through the recurrence, latest first: λ[t] = direct[t] + a λ[t+1].
            // With u = exp(-θ), a = exp(-u) and g = 1 - exp(-u): ∂e[t]/∂u = a (x[t]² - e[t-1]).
            let u = T.exp(-θ[ch])
            let (a, _) = EnvelopeSideChain.coefficients(logTimeConstant: θ[ch])
            var λ: T = 0, du: T = 0
            for t in stride(from: length - 1, through: 0, by: -1) {
                λ = direct[t] + a * λ
                let previous = t > 0 ? levels[(t - 1) * k + ch] : 0
                du += λ * (input[t] * input[t] - previous)
            }
            dθ[ch] += -u * a * du
        }
    }
}
