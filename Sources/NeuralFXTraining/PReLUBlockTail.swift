/// A PReLU block's tail, micro-tcn's default, in one pass over the frames
/// each way instead of one pass per step (normalize, affine, activation,
/// residual; and back through them). Each pass streamed all of the block's
/// activations through the cache (a megabyte per item at 8,192 frames and 32
/// channels), so the tails took a fifth of a uTCN-300-C training step.
///
/// Every value is formed by the same operations as in the separate steps, and
/// every per-channel sum adds its frames in the same order, so the results
/// are the same bits.
///
/// Within a frame each step is its own loop over the channels, as in the
/// separate passes: simple loops the compiler vectorizes. (One loop doing
/// every step, or explicit eight-lane vectors, ran slower: the first did not
/// vectorize past nine pointers it could not prove apart, the second built
/// its comparison masks lane by lane.)
enum PReLUBlockTail {
    /// In place `z <- (z - mean) * inverseStd`; then
    /// `y = prelu(z * gamma + beta) + r * x`, where `x` (the residual input,
    /// `inChannels` per frame, which divides `channels`) feeds output channel
    /// `c` from its channel `c / (channels / inChannels)`.
    static func forward<T: TrainingScalar>(normalizing z: UnsafeMutablePointer<T>, frames: Int, channels: Int,
                                           mean: UnsafePointer<T>, inverseStd: UnsafePointer<T>,
                                           gamma: UnsafePointer<T>, beta: UnsafePointer<T>, slope: UnsafePointer<T>,
                                           residual r: UnsafePointer<T>, residualInput x: UnsafePointer<T>, inChannels: Int,
                                           into y: UnsafeMutablePointer<T>) {
        for t in 0..<frames {
            let row = z + t * channels, dst = y + t * channels, src = x + t * inChannels
            for c in 0..<channels { row[c] = (row[c] - mean[c]) * inverseStd[c] }
            for c in 0..<channels { dst[c] = row[c] * gamma[c] + beta[c] }
            // Without branches, so it vectorizes.
            for c in 0..<channels { let u = dst[c]; dst[c] = u >= 0 ? u : slope[c] * u }
            // The residual's three shapes each in its own loop: the division
            // by the channel ratio would keep the other two from vectorizing.
            if inChannels == channels {
                for c in 0..<channels { dst[c] += r[c] * src[c] }
            } else if inChannels == 1 {
                let v = src[0]
                for c in 0..<channels { dst[c] += r[c] * v }
            } else {
                let ratio = channels / inChannels
                for c in 0..<channels { dst[c] += r[c] * src[c / ratio] }
            }
        }
    }

    /// The adjoints' sums the backward pass adds into, per channel.
    struct Gradients<T: TrainingScalar> {
        /// Of the residual weight, the PReLU slope, FiLM's scale and shift.
        let residual, slope, gamma, beta: UnsafeMutablePointer<T>
        /// BatchNorm's per-item sums of `dxhat` and `dxhat * xhat`.
        let sums, products: UnsafeMutablePointer<T>
    }

    /// From the block output's gradient `dy` to the normalized values'
    /// gradient `dxhat` (written over `dxhat`), adding the residual's share to
    /// the block input's gradient `dx` (if any; as wide as `x`).
    static func backward<T: TrainingScalar>(outputGradient dy: UnsafePointer<T>, normalized xhat: UnsafePointer<T>,
                                            frames: Int, channels: Int,
                                            gamma: UnsafePointer<T>, beta: UnsafePointer<T>, slope: UnsafePointer<T>,
                                            residual r: UnsafePointer<T>, residualInput x: UnsafePointer<T>, inChannels: Int,
                                            inputGradient dx: UnsafeMutablePointer<T>?, gradients d: Gradients<T>,
                                            into dxhat: UnsafeMutablePointer<T>) {
        let dr = d.residual, ds = d.slope, dgamma = d.gamma, dbeta = d.beta, sums = d.sums, products = d.products
        for t in 0..<frames {
            let g = dy + t * channels, xh = xhat + t * channels, out = dxhat + t * channels
            let src = x + t * inChannels
            if inChannels == channels {
                for c in 0..<channels { dr[c] += g[c] * src[c] }
                if let dx { let dst = dx + t * channels; for c in 0..<channels { dst[c] += r[c] * g[c] } }
            } else if inChannels == 1 {
                let v = src[0]
                for c in 0..<channels { dr[c] += g[c] * v }
                if let dx { let dst = dx + t; for c in 0..<channels { dst[0] += r[c] * g[c] } }
            } else {
                let ratio = channels / inChannels
                for c in 0..<channels { dr[c] += g[c] * src[c / ratio] }
                if let dx { let dst = dx + t * inChannels; for c in 0..<channels { dst[c / ratio] += r[c] * g[c] } }
            }
            for c in 0..<channels { out[c] = xh[c] * gamma[c] + beta[c] }
            // Without branches, so it vectorizes; adding zero where the slope
            // is not used leaves the slope gradient's sums as they were.
            for c in 0..<channels {
                let u = out[c], negative = u < 0
                out[c] = negative ? g[c] * slope[c] : g[c]
                ds[c] += negative ? g[c] * u : 0
            }
            for c in 0..<channels { dgamma[c] += out[c] * xh[c]; dbeta[c] += out[c]; out[c] *= gamma[c] }
            for c in 0..<channels { sums[c] += out[c]; products[c] += out[c] * xh[c] }
        }
    }
}
