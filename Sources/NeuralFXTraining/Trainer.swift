import Foundation
import NeuralFXCore

/// Runs training: samples chunks, steps the optimizer, validates, keeps the
/// best weights, and saves/restores its complete state.
///
/// One `SplitMix64` stream (seeded by the settings) picks every chunk, and
/// the step counter is the data cursor, so a run resumed from a checkpoint
/// repeats, bit for bit, what the uninterrupted run would have done.
///
/// Across processes (`exchange`), every rank draws the whole batch from the
/// same stream but fills and computes only its share (see `BatchExchange`);
/// rank 0 alone validates, and hands its decisions (stop, learning rate) to
/// the others before each step, so every rank takes the same steps. The
/// sampler tells near-silent chunks from `loudness`, not from the samples,
/// so a rank given `files` (and rank 0's `loudness`) holds no samples and
/// reads only its own items' chunks from disk.
public final class Trainer {
    public let settings: TrainingSettings
    public let dataset: TrainingDataset
    public let plan: DataSplitPlan
    public let loss: LossFunction
    /// micro-tcn's `TrainingNetwork` or NAM's `WaveNetTrainingNetwork`, as `settings` say.
    public let network: any TrainableNetwork
    public private(set) var step = 0
    public private(set) var random: SplitMix64
    public internal(set) var adam: AdamOptimizer
    public private(set) var plateau: PlateauScheduler
    public private(set) var bestValidation = Double.greatestFiniteMagnitude
    public private(set) var best: NetworkState
    /// `best` as micro-tcn weights, in a micro-tcn run.
    public var bestMicroTCNWeights: MicroTCNWeights? {
        (network as? TrainingNetwork<Float>)?.layout.weights(parameters: best.parameters, runningMean: best.runningMean,
                                                             runningVariance: best.runningVariance)
    }
    public private(set) var history: [LogRow] = []
    /// The command lines that trained this run, one per session (the caller
    /// appends its own); kept in checkpoints so a resumed run's model names
    /// every session that made it.
    public var commands: [String] = []
    /// The dataset, output and stopping point, kept in checkpoints (the
    /// caller sets it).
    public var runRecord: RunRecord?
    /// The step of the last checkpoint `run` wrote in this session.
    public internal(set) var lastCheckpointStep: Int?
    /// Training seconds before this session (from a checkpoint).
    public private(set) var previousSeconds = 0.0

    let trainSegments: [Segment]
    /// Chunk start positions available in each training segment, cumulated.
    let cumulativePositions: [Int]
    /// Each pair's input with `context` zeros in front, so a chunk may start
    /// at sample 0 as if the device had heard silence before.
    let paddedInputs: [[Float]]
    let conditioning: [[Float]]
    /// What the sampler knows of the targets' loudness.
    public let loudness: ChunkLoudness
    /// Where chunks are read from when the samples are not in memory.
    let files: ChunkFiles?
    /// Each pair's loss weight (all 1 unless `settings.weightSettings`).
    public let settingWeights: [Float]
    /// The pair each item of the current batch was drawn from.
    var itemPairs: [Int]
    var targets: [[Float]]
    var lossValues: [Float]
    var lossSinceValidation = 0.0
    var stepsSinceValidation = 0

    public init(dataset: TrainingDataset, plan: DataSplitPlan, settings: TrainingSettings,
                resumeFrom checkpoint: Checkpoint? = nil, exchange: BatchExchange? = nil,
                files: ChunkFiles? = nil, loudness: ChunkLoudness? = nil) throws {
        // The network learns what comes before a level knob's gain; the
        // engine applies that gain (see `KnobSpec.outputGainDecibels`).
        let dataset = dataset.targetsBeforeKnobGain()
        if let problem = settings.problem { throw DatasetError(problem) }
        // A WaveNet without knob inputs (a .nam capture) takes pairs all at one setting as a capture of it.
        let settingCount = Set(dataset.pairs.map { dataset.conditioning($0) }).count
        let capture = settings.trainsNAM && settings.knobInputs == 0
        if capture && dataset.knobs.conditioningSize > 0 && settingCount > 1 {
            throw DatasetError(settings.lstm != nil
                ? "NAM's LSTM takes no knobs but the dataset's pairs are at \(settingCount) knob settings; "
                    + "train them with micro-tcn, or render one setting (fxtrain dataset --setting)"
                : "this WaveNet takes no knobs but the dataset's pairs are at \(settingCount) knob settings; "
                    + "give it the dataset's \(dataset.knobs.conditioningSize) knob inputs, or render one setting (fxtrain dataset --setting)")
        }
        guard capture || settings.knobInputs == dataset.knobs.conditioningSize else {
            throw DatasetError("the model takes \(settings.knobInputs) knob inputs but the dataset has \(dataset.knobs.conditioningSize)")
        }
        self.settings = settings
        self.dataset = dataset
        self.plan = plan
        loss = try LossFunction(parsing: settings.loss)
        if let config = settings.lstm {
            guard exchange == nil else { throw DatasetError("NAM's LSTM trains in one process: start fxtrain without mpirun") }
            let lstm = LSTMTrainingNetwork<Float>(config: config, batchSize: settings.batchSize, outputLength: settings.chunkLength,
                                                  threads: settings.threads, weights: config.trainingStart(seed: settings.seed))
            lstm.streamingPrewarm = dataset.sampleRate / 2
            network = lstm
        } else if let config = settings.waveNetConfig {
            guard exchange == nil else { throw DatasetError("NAM's WaveNet trains in one process: start fxtrain without mpirun") }
            network = WaveNetTrainingNetwork<Float>(config: config, batchSize: settings.batchSize, outputLength: settings.chunkLength,
                                                    threads: settings.threads, weights: config.trainingStart(seed: settings.seed))
        } else {
            let config = settings.config
            let initial = MicroTCNWeights.trainingStart(config, seed: settings.seed, sampleRate: Double(dataset.sampleRate))
            let microTCN = TrainingNetwork<Float>(config: config, batchSize: settings.batchSize, outputLength: settings.chunkLength,
                                                  threads: settings.threads, weights: initial, exchange: exchange,
                                                  warmup: settings.warmup(sampleRate: dataset.sampleRate))
            microTCN.normalization = settings.normalization
            network = microTCN
        }
        random = SplitMix64(seed: settings.seed &+ 0x7261_696E)
        adam = AdamOptimizer(parameterCount: network.parameters.count, learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        if let microTCN = network as? TrainingNetwork<Float>, settings.config.hasGainComputer {
            var scale = [Float](repeating: 1, count: network.parameters.count)
            let faster = settings.gainRateScale ?? TrainingSettings.gainComputerRateScale
            for (name, shape) in zip(microTCN.layout.names, microTCN.layout.shapes) where name.hasPrefix("gain.") {
                let o = microTCN.layout.offset(name)
                for i in o..<(o + shape.reduce(1, *)) { scale[i] = faster }
            }
            adam.rateScale = scale
        }
        plateau = PlateauScheduler(patience: settings.plateauPatience)
        best = network.state
        let pad = [Float](repeating: 0, count: network.inputLength - settings.chunkLength)
        paddedInputs = dataset.pairs.map { pad + $0.input }
        conditioning = dataset.pairs.map { dataset.conditioning($0) }
        self.files = files
        precondition(files == nil || loudness != nil, "a trainer reading chunks from files needs the targets' loudness")
        self.loudness = loudness ?? ChunkLoudness(targets: dataset.pairs.map(\.target),
                                                  blockLength: ChunkLoudness.blockLength(chunkLength: settings.chunkLength))
        trainSegments = plan.segments(.train).filter { $0.length >= settings.chunkLength }
        guard !trainSegments.isEmpty else {
            throw DatasetError("no training segment is as long as one chunk (\(settings.chunkLength) samples); use a shorter --chunk")
        }
        var total = 0
        cumulativePositions = trainSegments.map { total += $0.length - settings.chunkLength + 1; return total }
        settingWeights = settings.weightSettings == true ? Trainer.inversePowerWeights(self.loudness) : [Float](repeating: 1, count: dataset.pairs.count)
        itemPairs = [Int](repeating: 0, count: settings.batchSize)
        targets = Array(repeating: [Float](repeating: 0, count: settings.chunkLength), count: settings.batchSize)
        lossValues = [Float](repeating: 0, count: settings.batchSize)
        if let checkpoint { try restore(checkpoint) }
    }

    /// Steps in one pass over the training audio.
    public var stepsPerEpoch: Int {
        let samples = trainSegments.reduce(0) { $0 + $1.length }
        return max(1, samples / (settings.batchSize * settings.chunkLength))
    }

    public var epoch: Double { Double(step) / Double(stepsPerEpoch) }

    /// Whether this process validates, logs and writes: rank 0, or the only process.
    public var isLeader: Bool { (network.exchange?.rank ?? 0) == 0 }

    // MARK: Training

    /// Chunks whose target is quieter than this (RMS, as `loudness` reckons
    /// it) are drawn again: on near-silence the relative losses (ESR,
    /// spectral convergence) explode.
    public static let silentChunkRMS: Float = 1e-3
    static let drawAttempts = 8

    /// A random training chunk (segment and start sample), avoiding silent
    /// targets when the random stream finds a louder one within a few tries.
    func drawChunk() -> (Segment, Int) {
        var chosen: (Segment, Int)?
        for _ in 0..<Trainer.drawAttempts {
            let position = Int(random.next() % UInt64(cumulativePositions.last!))
            var s = 0
            while cumulativePositions[s] <= position { s += 1 }
            let segment = trainSegments[s]
            let start = segment.start + position - (s == 0 ? 0 : cumulativePositions[s - 1])
            if chosen == nil { chosen = (segment, start) }
            let energy = loudness.energy(pair: segment.pair, start: start, length: settings.chunkLength)
            let rms = Double(Trainer.silentChunkRMS)
            if energy >= rms * rms * Double(settings.chunkLength) { return (segment, start) }
        }
        return chosen!
    }

    /// One optimizer step on a freshly sampled batch; returns its loss.
    @discardableResult
    public func trainStep() throws -> Double {
        let length = settings.chunkLength, context = network.inputLength - length
        let local = network.localItems
        for b in 0..<settings.batchSize {
            // Every rank draws every chunk, so the stream stays the same on all.
            let (segment, start) = drawChunk()
            itemPairs[b] = segment.pair
            guard local.contains(b) else { continue }
            let knobs = conditioning[segment.pair]
            for k in 0..<settings.knobInputs { network.knobs(b)[k] = knobs[k] }
            if let files {
                // Padded index p holds input sample p - context.
                try files.readInput(pair: segment.pair, start: start - context, count: length + context, into: network.input(b))
                try targets[b].withUnsafeMutableBufferPointer {
                    try files.readTarget(pair: segment.pair, start: start, count: length, into: $0.baseAddress!)
                }
                continue
            }
            paddedInputs[segment.pair].withUnsafeBufferPointer { src in
                network.input(b).update(from: src.baseAddress! + start, count: length + context)
            }
            dataset.pairs[segment.pair].target.withUnsafeBufferPointer { src in
                targets[b].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src.baseAddress! + start, count: length) }
            }
        }
        network.trainingForward()
        let scale = 1 / Float(settings.batchSize)
        let loss = self.loss, net = self.network
        let weights = itemPairs.map { settingWeights[$0] }
        targets.withUnsafeBufferPointer { targets in
            lossValues.withUnsafeMutableBufferPointer { values in
                let box = UnsafeSendableBox((targets, values))
                forEachItem(local.count, threads: settings.threads) { i in
                    let b = local.lowerBound + i
                    let gradient = net.outputGradient(b)
                    let value = targets[b].withUnsafeBufferPointer { t in
                        loss.evaluate(prediction: net.output(b), target: t.baseAddress!, count: length, gradient: gradient)
                    }
                    let weight = weights[b]
                    for t in 0..<length { gradient[t] *= scale * weight }
                    box.value.1[b] = value * weight
                }
            }
        }
        if let exchange = network.exchange, exchange.size > 1 {
            let counts = (0..<exchange.size).map { batchShare(settings.batchSize, rank: $0, size: exchange.size).count * MemoryLayout<Float>.stride }
            lossValues.withUnsafeMutableBytes { exchange.allGather($0, byteCounts: counts) }
        }
        let batchLoss = lossValues.reduce(0.0) { $0 + Double($1) } / Double(settings.batchSize)
        network.backward()
        var gradient = network.gradient
        clipGradient(&gradient, maxNorm: settings.gradientClip)
        adam.update(&network.parameters, gradient: gradient)
        step += 1
        if let decay = settings.learningRateDecay {
            // Stepped once per whole epoch, as NAM's trainer steps ExponentialLR.
            adam.learningRate = settings.learningRate * pow(decay, Float(step / stepsPerEpoch))
        }
        lossSinceValidation += batchLoss
        stepsSinceValidation += 1
        return batchLoss
    }

    /// Per pair, the dataset's mean target power over the pair's: a loss
    /// weighted by it counts every knob setting alike, as a per-setting ESR
    /// does, without the noise of dividing each chunk by its own energy.
    /// A near-silent pair's weight is capped at 1000 (30 dB).
    static func inversePowerWeights(_ loudness: ChunkLoudness) -> [Float] {
        let powers = loudness.lengths.indices.map { p in
            loudness.energy(pair: p, start: 0, length: loudness.lengths[p]) / Double(max(loudness.lengths[p], 1))
        }
        let mean = powers.reduce(0, +) / Double(max(powers.count, 1))
        return powers.map { Float(min(mean / max($0, .leastNormalMagnitude), 1000)) }
    }

    /// Scores the current weights on validation audio, records a log row,
    /// keeps the best weights and adjusts the learning rate.
    @discardableResult
    public func validate(seconds: Double, samplesPerSecond: Double) -> LogRow {
        let state = network.state
        let scores = evaluate(state, on: plan.segments(.validation))
        let validationLoss = scores.map { $0.loss * Double(settingWeights[$0.segment.pair]) }.reduce(0, +) / Double(scores.count)
        // Pooled over segments, so a near-silent segment cannot dominate.
        let esr = scores.reduce(0) { $0 + $1.errorEnergy } / max(scores.reduce(0) { $0 + $1.targetEnergy }, .leastNormalMagnitude)
        if validationLoss < bestValidation {
            bestValidation = validationLoss
            best = state
        }
        if settings.learningRateDecay == nil {
            adam.learningRate = plateau.observe(validationLoss, learningRate: adam.learningRate)
        }
        let row = LogRow(step: step, epoch: epoch, seconds: previousSeconds + seconds,
                         trainLoss: stepsSinceValidation > 0 ? lossSinceValidation / Double(stepsSinceValidation) : .nan,
                         validationLoss: validationLoss, validationESR: esr, learningRate: Double(adam.learningRate),
                         samplesPerSecond: samplesPerSecond)
        history.append(row)
        lossSinceValidation = 0
        stepsSinceValidation = 0
        return row
    }

    public struct SegmentScore: Sendable {
        public var segment: Segment
        public var prediction: [Float]
        public var target: [Float]
        public var loss: Double
        public var esr: Double
        public var errorEnergy: Double { zip(prediction, target).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } }
        public var targetEnergy: Double { target.reduce(0) { $0 + Double($1) * Double($1) } }
    }

    /// Runs `state` as the streaming engine would (from silence, with
    /// real input before the segment as context) and scores each segment's
    /// first `evaluationSeconds`.
    public func evaluate(_ state: NetworkState, on segments: [Segment]) -> [SegmentScore] {
        let model = network.streamingModel(state)
        let block = 4096
        model.prepare(maxBlockSize: block)
        let context = network.inputLength - settings.chunkLength
        let limit = Int(settings.evaluationSeconds * Double(dataset.sampleRate))
        let esr = LossFunction([.esr(preEmphasis: nil)])
        return segments.map { segment in
            var knobs = conditioning[segment.pair]
            model.setConditioning(&knobs)
            model.reset()
            let end = min(segment.end, segment.start + limit)
            // Padded index p holds input sample p - context.
            let input = Array(paddedInputs[segment.pair][segment.start..<(end + context)])
            let output = renderInBlocks(input, blockSize: block) { model.process($0, $1, frameCount: $2) }
            let prediction = Array(output[context...])
            let target = Array(dataset.pairs[segment.pair].target[segment.start..<end])
            let value = loss.evaluate(prediction: prediction, target: target, count: target.count, gradient: nil)
            let e = esr.evaluate(prediction: prediction, target: target, count: target.count, gradient: nil)
            return SegmentScore(segment: segment, prediction: prediction, target: target, loss: Double(value), esr: Double(e))
        }
    }

    // MARK: Checkpoints

    public func checkpoint(elapsedSeconds: Double) -> Checkpoint {
        let current = network.state
        return Checkpoint(settings: settings, step: step, randomState: String(random.state),
                          parameters: FloatBits(current.parameters),
                          runningMean: current.runningMean.map(FloatBits.init), runningVariance: current.runningVariance.map(FloatBits.init),
                          adam: .init(learningRateBits: adam.learningRate.bitPattern, weightDecayBits: adam.weightDecay.bitPattern,
                                      step: adam.step, firstMoment: FloatBits(adam.firstMoment), secondMoment: FloatBits(adam.secondMoment)),
                          plateau: plateau, bestValidation: String(bestValidation.bitPattern),
                          bestParameters: FloatBits(best.parameters), bestRunningMean: best.runningMean.map(FloatBits.init),
                          bestRunningVariance: best.runningVariance.map(FloatBits.init),
                          elapsedSeconds: previousSeconds + elapsedSeconds, history: history, commands: commands, run: runRecord)
    }

    /// The best weights and the plateau start over from the weights now,
    /// after a change that leaves the losses before incomparable.
    func restartBest() {
        bestValidation = .greatestFiniteMagnitude
        plateau.forgetLosses()
        best = network.state
    }

    private func restore(_ c: Checkpoint) throws {
        guard c.settings.config == settings.config && c.settings.waveNet == settings.waveNet
                && c.settings.waveNetKnobs == settings.waveNetKnobs && c.settings.lstm == settings.lstm else {
            throw DatasetError("the checkpoint is for a different architecture (\(c.settings.architecture))")
        }
        guard c.parameters.values.count == network.parameters.count, let state = UInt64(c.randomState),
              let bestBits = UInt64(c.bestValidation) else { throw DatasetError("the checkpoint is damaged") }
        step = c.step
        random = SplitMix64(seed: state)
        network.state = NetworkState(parameters: c.parameters.values, runningMean: c.runningMean.map(\.values),
                                     runningVariance: c.runningVariance.map(\.values))
        adam.learningRate = Float(bitPattern: c.adam.learningRateBits)
        adam.weightDecay = Float(bitPattern: c.adam.weightDecayBits)
        adam.step = c.adam.step
        adam.firstMoment = c.adam.firstMoment.values
        adam.secondMoment = c.adam.secondMoment.values
        plateau = c.plateau
        bestValidation = Double(bitPattern: bestBits)
        if (c.settings.weightSettings ?? false) != (settings.weightSettings ?? false) {
            // The validation loss changes its weighting here: losses before
            // and after cannot be compared, so the best and the plateau
            // start over (the learning rate carries on); the best weights
            // are the checkpoint's until the first validation.
            restartBest()
        }
        best = NetworkState(parameters: c.bestParameters.values, runningMean: c.bestRunningMean.map(\.values),
                            runningVariance: c.bestRunningVariance.map(\.values))
        previousSeconds = c.elapsedSeconds
        history = c.history
        commands = c.commands ?? []
        runRecord = c.run
    }
}
