import NeuralFXCore

/// What `Trainer` needs of a network it trains in Float: the flat
/// parameters and their gradient, batch items to fill and read, one
/// forward and backward pass, and the streaming model the engine would run
/// from a state (for validation and test scores). micro-tcn's
/// `TrainingNetwork`, NAM's `WaveNetTrainingNetwork` and NAM's
/// `LSTMTrainingNetwork` are the three.
public protocol TrainableNetwork: AnyObject {
    var parameters: [Float] { get set }
    var gradient: [Float] { get }
    /// Parameters plus whatever else the model file needs (BatchNorm's running statistics).
    var state: NetworkState { get set }
    /// Input samples per item: the output length, the receptive field's
    /// context and any warm-up before it.
    var inputLength: Int { get }
    /// The other processes training this batch, if any.
    var exchange: BatchExchange? { get }
    /// The items this process computes.
    var localItems: Range<Int> { get }
    func input(_ b: Int) -> UnsafeMutablePointer<Float>
    func knobs(_ b: Int) -> UnsafeMutablePointer<Float>
    func output(_ b: Int) -> UnsafeMutablePointer<Float>
    func outputGradient(_ b: Int) -> UnsafeMutablePointer<Float>
    /// The batch forward in training mode (updating running statistics, if any).
    func trainingForward()
    func backward()
    func streamingModel(_ state: NetworkState) -> any StreamingNetwork
}

/// Everything a trained network's model file is made from, as stored in
/// checkpoints: the flat parameters and, for micro-tcn, each block's
/// BatchNorm running statistics (empty for a WaveNet).
public struct NetworkState: Equatable, Sendable {
    public var parameters: [Float]
    public var runningMean: [[Float]]
    public var runningVariance: [[Float]]

    public init(parameters: [Float], runningMean: [[Float]] = [], runningVariance: [[Float]] = []) {
        self.parameters = parameters
        self.runningMean = runningMean
        self.runningVariance = runningVariance
    }
}

extension TrainingNetwork: TrainableNetwork where T == Float {
    public var state: NetworkState {
        get { NetworkState(parameters: parameters, runningMean: runningMean, runningVariance: runningVariance) }
        set {
            parameters = newValue.parameters
            runningMean = newValue.runningMean
            runningVariance = newValue.runningVariance
        }
    }

    public func trainingForward() { forward() }

    public func streamingModel(_ state: NetworkState) -> any StreamingNetwork {
        MicroTCN(layout.weights(parameters: state.parameters, runningMean: state.runningMean, runningVariance: state.runningVariance))
    }
}

extension WaveNetTrainingNetwork: TrainableNetwork where T == Float {
    public var state: NetworkState {
        get { NetworkState(parameters: parameters) }
        set { parameters = newValue.parameters }
    }

    /// A WaveNet trains in one process.
    public var exchange: BatchExchange? { nil }
    public var localItems: Range<Int> { 0..<batchSize }

    public func trainingForward() { forward() }

    /// The engine's `NAMWaveNet`, as it plays the written .nam file.
    public func streamingModel(_ state: NetworkState) -> any StreamingNetwork {
        NAMWaveNet(NAMWaveNetBlueprint(config: config, weights: state.parameters))
    }
}

extension LSTMTrainingNetwork: TrainableNetwork where T == Float {
    public var state: NetworkState {
        get { NetworkState(parameters: parameters) }
        set { parameters = newValue.parameters }
    }

    /// An LSTM trains in one process.
    public var exchange: BatchExchange? { nil }
    public var localItems: Range<Int> { 0..<batchSize }

    public func trainingForward() { forward() }

    /// The engine's `NAMLSTM`, as it plays the written .nam file (from the
    /// state after silence, prewarmed as the loader prewarms it).
    public func streamingModel(_ state: NetworkState) -> any StreamingNetwork {
        NAMLSTM(NAMLSTMBlueprint(layers: config.layers, inputSize: 1, hiddenSize: config.hiddenSize,
                                 weights: config.fileWeights(state.parameters), prewarmFrames: streamingPrewarm))
    }
}
