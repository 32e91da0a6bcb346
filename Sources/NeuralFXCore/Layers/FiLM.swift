/// Feature-wise linear modulation after a batch normalization, folded into one
/// per-channel affine `y = x * scale + shift`.
///
/// micro-tcn normalizes with BatchNorm (no affine, running statistics at
/// inference), then scales and shifts by `gamma` and `beta` that an adaptor
/// computes from the conditioning vector. Both are per-channel and constant
/// between knob moves, so one multiply-add per value does the lot; the fold
/// runs only when the conditioning changes.
public final class FiLM {
    public let channels: Int
    public let conditioningSize: Int
    /// The adaptor: `[gamma; beta] = A c + a` with `A` of shape `[2C, cond]`.
    let adaptor: Dense?
    let runningMean: [Float]
    let inverseStd: [Float]
    /// Used when there is no adaptor (BatchNorm with its own affine).
    let fixedGamma: [Float]
    let fixedBeta: [Float]

    public let scale: FloatBuffer
    public let shift: FloatBuffer

    public static let batchNormEpsilon: Float = 1e-5

    /// Conditional FiLM (micro-tcn's `film`): BatchNorm statistics plus an
    /// adaptor from the conditioning vector.
    public init(channels: Int, runningMean: [Float], runningVariance: [Float], adaptor: Dense) {
        precondition(adaptor.outputs == 2 * channels)
        self.channels = channels
        self.conditioningSize = adaptor.inputs
        self.adaptor = adaptor
        self.runningMean = runningMean
        self.inverseStd = runningVariance.map { 1 / (($0 + FiLM.batchNormEpsilon).squareRoot()) }
        fixedGamma = []
        fixedBeta = []
        scale = FloatBuffer(count: channels, value: 1)
        shift = FloatBuffer(count: channels)
    }

    /// Unconditional BatchNorm with affine (micro-tcn's `bn` when `nparams == 0`).
    public init(channels: Int, runningMean: [Float], runningVariance: [Float], gamma: [Float], beta: [Float]) {
        self.channels = channels
        self.conditioningSize = 0
        self.adaptor = nil
        self.runningMean = runningMean
        self.inverseStd = runningVariance.map { 1 / (($0 + FiLM.batchNormEpsilon).squareRoot()) }
        fixedGamma = gamma
        fixedBeta = beta
        scale = FloatBuffer(count: channels, value: 1)
        shift = FloatBuffer(count: channels)
        fold(gamma: gamma, beta: beta)
    }

    /// Recomputes the folded affine from a conditioning embedding, using
    /// `scratch` (at least `2 * channels` floats) for the adaptor output.
    public func condition(on embedding: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        guard let adaptor else { return }
        adaptor.apply(embedding, into: scratch, relu: false)
        for c in 0..<channels {
            let s = scratch[c] * inverseStd[c]
            scale[c] = s
            shift[c] = scratch[channels + c] - runningMean[c] * s
        }
    }

    private func fold(gamma: [Float], beta: [Float]) {
        for c in 0..<channels {
            let s = gamma[c] * inverseStd[c]
            scale[c] = s
            shift[c] = beta[c] - runningMean[c] * s
        }
    }
}
