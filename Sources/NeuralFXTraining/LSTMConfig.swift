import NeuralFXCore

/// Neural Amp Modeler's LSTM as `fxtrain --arch nam-lstm` trains it: the
/// network's size and how each training chunk runs through it.
///
/// The defaults are NAM's LSTM recipe (its `nam_full_configs/models/lstm.json`):
/// 3 layers of 18 cells, a burn-in of 8192 samples before each chunk
/// (`train_burn_in`, with the loss masked there, `mask_first`) and no
/// truncation (`train_truncate: null`), learning rate 0.008.
public struct LSTMConfig: Codable, Equatable, Sendable {
    public var layers: Int
    public var hiddenSize: Int
    /// Input samples each chunk starts with that the LSTM runs over but no
    /// loss is taken on; the gradient still flows through them to the
    /// learned initial state (as NAM's does).
    public var burnIn: Int
    /// Backpropagation through time cut every this many samples after the
    /// burn-in (NAM's `train_truncate`); nil: exact over the whole chunk.
    public var truncation: Int?

    public static let name = "nam-lstm"
    public static let nam = LSTMConfig(layers: 3, hiddenSize: 18, burnIn: 8192, truncation: nil)
    /// NAM's learning rate for its LSTM (far above its WaveNet's 0.004).
    public static let learningRate: Float = 0.008

    public init(layers: Int, hiddenSize: Int, burnIn: Int, truncation: Int? = nil) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.burnIn = burnIn
        self.truncation = truncation
    }

    /// Weights in the .nam file (and trained): per layer the gate matrix,
    /// bias and initial hidden and cell states; then the head.
    public var weightCount: Int { NAMLSTMBlueprint.weightCount(layers: layers, inputSize: 1, hiddenSize: hiddenSize) }

    /// Why this cannot train (or be loaded back), if it cannot; the bounds are the loader's.
    public var problem: String? {
        if !(1...4).contains(layers) { return "an LSTM's layers must be in 1...4 (NAM's recipe: 3)" }
        if !(1...128).contains(hiddenSize) { return "an LSTM's hidden size must be in 1...128 (NAM's recipe: 18)" }
        if burnIn < 0 || burnIn > 1 << 20 { return "the LSTM burn-in must be in 0...1048576 samples" }
        if let t = truncation, t < 1 { return "the LSTM truncation must be at least 1 sample" }
        return nil
    }
}
