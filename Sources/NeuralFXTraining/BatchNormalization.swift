/// How a block's convolution outputs are normalized while training.
public enum Normalization: String, Codable, CaseIterable, Sendable {
    /// BatchNorm in training mode, as micro-tcn trains: each batch's own
    /// statistics, with running statistics kept for inference.
    case batch
    /// The running statistics, held at their start (mean 0, variance 1), so
    /// training computes exactly the function inference will run, and a
    /// chunk's absolute level is not normalized away, which a compressor
    /// (whose gain depends on that level) needs.
    case fixed
}

/// BatchNorm in training mode, as PyTorch computes it: statistics over batch
/// and time, the biased variance to normalize, the unbiased one (and momentum
/// 0.1) for the running statistics inference uses.
///
/// The statistics couple the items of a batch, so they are formed from
/// per-item partial sums added in item order: the result is the same however
/// the items were spread over threads.
enum BatchNormalization {
    static let epsilon = 1e-5

    /// Adds each channel's sum over `frames` into `sums`.
    static func accumulateSums<T: TrainingScalar>(_ z: UnsafePointer<T>, frames: Int, channels: Int,
                                                  into sums: UnsafeMutablePointer<T>) {
        for t in 0..<frames { let row = z + t * channels; for c in 0..<channels { sums[c] += row[c] } }
    }

    /// Adds each channel's sum of squared deviations from `mean` into `sums`.
    static func accumulateSquares<T: TrainingScalar>(_ z: UnsafePointer<T>, frames: Int, channels: Int, mean: UnsafePointer<T>,
                                                     into sums: UnsafeMutablePointer<T>) {
        for t in 0..<frames {
            let row = z + t * channels
            for c in 0..<channels { let e = row[c] - mean[c]; sums[c] += e * e }
        }
    }

    /// In place: `z <- (z - mean) * inverseStd`.
    static func normalize<T: TrainingScalar>(_ z: UnsafeMutablePointer<T>, frames: Int, channels: Int,
                                             mean: UnsafePointer<T>, inverseStd: UnsafePointer<T>) {
        for t in 0..<frames {
            let row = z + t * channels
            for c in 0..<channels { row[c] = (row[c] - mean[c]) * inverseStd[c] }
        }
    }

    /// Per-item parts of the backward pass: sums of `dxhat` and `dxhat * xhat`.
    static func accumulateGradientSums<T: TrainingScalar>(normalized xhat: UnsafePointer<T>, gradient g: UnsafePointer<T>,
                                                          frames: Int, channels: Int,
                                                          sums: UnsafeMutablePointer<T>, products: UnsafeMutablePointer<T>) {
        for t in 0..<frames {
            let x = xhat + t * channels, d = g + t * channels
            for c in 0..<channels { sums[c] += d[c]; products[c] += d[c] * x[c] }
        }
    }

    /// In place: `dxhat -> dz = inverseStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`,
    /// with the means over all `count` values of the batch.
    static func backward<T: TrainingScalar>(normalized xhat: UnsafePointer<T>, gradient g: UnsafeMutablePointer<T>,
                                            frames: Int, channels: Int, count: Int, inverseStd: UnsafePointer<T>,
                                            sums: UnsafePointer<T>, products: UnsafePointer<T>) {
        let scale = 1 / T(count)
        for t in 0..<frames {
            let x = xhat + t * channels, d = g + t * channels
            for c in 0..<channels {
                d[c] = inverseStd[c] * (d[c] - sums[c] * scale - x[c] * products[c] * scale)
            }
        }
    }
}
