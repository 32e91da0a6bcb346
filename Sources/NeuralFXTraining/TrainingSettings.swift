import NeuralFXCore

/// Everything that defines a run. Stored in checkpoints and in the model's
/// provenance, so a run can be resumed and its result explained.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var architecture: String
    /// micro-tcn's configuration; not used when `waveNet` names the model.
    public var config: MicroTCNConfig
    /// NAM's WaveNet preset this run trains instead of micro-tcn (absent in
    /// checkpoints of micro-tcn runs).
    public var waveNet: WaveNetPreset?
    /// Knob inputs the WaveNet takes beside the audio (its `condition_size`
    /// minus 1); absent in checkpoints of runs without knobs.
    public var waveNetKnobs: Int?
    /// NAM's LSTM this run trains instead (absent in checkpoints of other runs).
    public var lstm: LSTMConfig?
    public var learningRate: Float = 1e-3
    public var batchSize: Int = 8
    /// Output samples per chunk (the input chunk adds the receptive field).
    public var chunkLength: Int = 8192
    public var loss: String = "mse"
    public var seed: UInt64 = 1
    /// Training steps between validations.
    public var validationInterval: Int = 200
    public var weightDecay: Float = 0
    /// Largest global gradient norm (0: no clipping).
    public var gradientClip: Float = 10
    /// Validations without improvement before the learning rate halves.
    public var plateauPatience: Int = 10
    /// NAM's schedule instead of the plateau's: the learning rate times this
    /// factor after every epoch (PyTorch's ExponentialLR; NAM's trainer uses 0.993).
    public var learningRateDecay: Float?
    /// Whole knob settings held out for testing when the layout has no splits.
    public var holdout: Int = 0
    /// Largest input-to-target latency (samples) the data checks accept.
    public var maxLatency: Int = 1000
    /// Validation and test audio scored per segment, in seconds (the start of each).
    public var evaluationSeconds: Double = 10
    public var threads: Int = 2
    public var normalization: Normalization = .batch
    /// Seconds of input before each chunk that only the envelopes and the
    /// gain computer run over (`TrainingNetwork.warmup`): nil for models
    /// without either.
    public var warmupSeconds: Double?
    /// Whether each knob setting's loss is weighted by the inverse of its
    /// targets' mean power (`Trainer.settingWeights`), so that heavy
    /// compression, whose output is 20 to 30 dB quieter, counts as much as a
    /// light setting under MSE. nil: off.
    public var weightSettings: Bool?
    /// Multiplies the learning rate of the gain computer's knob map: its
    /// thresholds span tens of dB and its time constants factors of a
    /// hundred, far beyond what the network's learning rate moves them in
    /// a run. nil: `gainComputerRateScale`.
    public var gainRateScale: Float?
    public static let gainComputerRateScale: Float = 30

    /// Models with envelopes warm up for 8 s: nearly three of the slowest
    /// starting time constants (3 s), so at a chunk's start the slowest
    /// envelope is within 7% of its level after endless history.
    public static let envelopeWarmupSeconds = 8.0

    public init(architecture: String, config: MicroTCNConfig) {
        self.architecture = architecture
        self.config = config
    }

    /// A run training NAM's WaveNet `preset`, taking `knobs` knob inputs as
    /// extra condition channels (0: a capture of one setting, a .nam file).
    public init(waveNet preset: WaveNetPreset, knobs: Int = 0) {
        self.init(architecture: preset.rawValue, config: MicroTCNConfig(nparams: 0, nblocks: 1, kernelSize: 2, dilationGrowth: 1, channelWidth: 1))
        waveNet = preset
        if knobs > 0 { waveNetKnobs = knobs }
    }

    /// A run training NAM's LSTM (without knobs: a .nam file has none).
    public init(lstm: LSTMConfig) {
        self.init(architecture: LSTMConfig.name, config: MicroTCNConfig(nparams: 0, nblocks: 1, kernelSize: 2, dilationGrowth: 1, channelWidth: 1))
        self.lstm = lstm
        learningRate = LSTMConfig.learningRate
    }

    /// Whether the run trains a NAM model (written as .nam, no knobs, one process).
    public var trainsNAM: Bool { waveNet != nil || lstm != nil }

    /// NAM's WaveNet config for `waveNet`, if the run trains one.
    public var waveNetConfig: NAMWaveNetConfig? { waveNet?.config(knobs: waveNetKnobs ?? 0) }

    /// Knob values the model takes.
    public var knobInputs: Int { lstm != nil ? 0 : waveNet != nil ? waveNetKnobs ?? 0 : config.nparams }

    public var receptiveField: Int { lstm != nil ? 1 : waveNetConfig?.receptiveField ?? config.receptiveField }

    /// micro-tcn's named architecture for `nparams` knobs; nil if unknown.
    /// Trained models align the residual with the convolution (see
    /// `MicroTCNConfig.residualDelay`), so training can start from the identity,
    /// and are silence-referenced, so they output silence for silence. The
    /// training network learns the raw output: the reference only removes a
    /// constant per knob setting, far below the error training reaches.
    /// Warm-up samples at `sampleRate`.
    public func warmup(sampleRate: Int) -> Int { Int(((warmupSeconds ?? 0) * Double(sampleRate)).rounded()) }

    public static func named(_ architecture: String, nparams: Int, activation: ActivationKind = .prelu) -> TrainingSettings? {
        guard var config = MicroTCNConfig.named(architecture, nparams: nparams) else { return nil }
        config.residualDelay = 0
        config.silenceReferenced = true
        config.activation = activation
        var settings = TrainingSettings(architecture: architecture.lowercased(), config: config)
        if config.hasLongMemory { settings.warmupSeconds = envelopeWarmupSeconds }
        return settings
    }

    /// The reason these settings cannot train, if any.
    public var problem: String? {
        if let k = waveNetKnobs, !(1...NAMWaveNetConfig.maxKnobs).contains(k) {
            return "a WaveNet takes 1 to \(NAMWaveNetConfig.maxKnobs) knob inputs, not \(k)"
        }
        if let lstm, let reason = lstm.problem { return reason }
        if !trainsNAM {
            if let reason = config.unsupportedReason { return reason }
            if config.kernelSize < 1 + config.residualDelay { return "kernel_size must be at least 2 to train with micro-tcn's residual delay" }
        }
        if let d = learningRateDecay, !(d > 0 && d <= 1) { return "learning rate decay \(d) is outside (0, 1]" }
        if !(learningRate > 0 && learningRate < 1) { return "learning rate \(learningRate) is outside (0, 1)" }
        if batchSize < 1 || batchSize > 256 { return "batch size \(batchSize) is outside 1...256" }
        if chunkLength < 64 || chunkLength > 1 << 20 { return "chunk length \(chunkLength) is outside 64...1048576 samples" }
        if validationInterval < 1 { return "validation interval must be at least 1 step" }
        if weightDecay < 0 || gradientClip < 0 { return "weight decay and gradient clip must not be negative" }
        if maxLatency < 0 { return "maximum latency must not be negative" }
        if let g = gainRateScale, !(g > 0 && g <= 1000) { return "gain computer learning rate scale \(g) is outside (0, 1000]" }
        if let w = warmupSeconds, !(w >= 0 && w <= 60) { return "warm-up \(w) s is outside 0...60 seconds" }
        if (warmupSeconds ?? 0) > 0 && !config.hasLongMemory { return "a warm-up needs a model with envelopes or a gain computer" }
        if (try? LossFunction(parsing: loss)) == nil { return (LossParseError(text: loss)).description }
        return nil
    }
}
