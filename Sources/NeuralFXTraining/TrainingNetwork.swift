import NeuralFXCore
import RealModule

/// micro-tcn as it trains: a batch of chunks forward (BatchNorm on batch
/// statistics) and the exact gradient of a loss back to every parameter.
///
/// Chunks are unpadded: `inputLength = outputLength + receptiveField - 1`
/// input samples give `outputLength` outputs, output `t` belonging to input
/// sample `t + receptiveField - 1`, exactly as the streaming `MicroTCN`
/// aligns them. Models with envelopes or a gain computer take `warmup` more
/// input samples in front, which only those run over, so their state at the
/// chunk's start holds seconds of history at little cost. Items run in parallel; parameter gradients are kept per
/// item and summed in item order, so a seed reproduces a run bit for bit.
/// Across processes (`exchange`), each computes its share of the items and
/// the per-item values are gathered before every in-order sum, so the
/// result does not depend on the number of processes either (unless
/// `reduction` is `sum`, which trades that for fewer bytes).
public final class TrainingNetwork<T: TrainingScalar> {
    public let config: MicroTCNConfig
    public let layout: ParameterLayout
    public let batchSize: Int
    public let outputLength: Int
    /// Input samples per item: the warm-up, then what the blocks see.
    public let inputLength: Int
    /// Input samples before the blocks' input that only the envelopes and the gain computer run over.
    public let warmup: Int
    /// Threads for the batch (1 = serial); results do not depend on it.
    public var threads: Int
    /// Trainable tensors, flat, in `layout` order and PyTorch layouts.
    public var parameters: [T]
    public var runningMean: [[T]]
    public var runningVariance: [[T]]
    /// Gradient of the last `backward`, same layout as `parameters`.
    public private(set) var gradient: [T]
    public static var runningMomentum: T { 0.1 }
    public var normalization: Normalization = .batch
    /// The other processes training this batch, if any.
    public let exchange: BatchExchange?
    /// The items this process computes (all of them without `exchange`).
    public let localItems: Range<Int>
    /// How the processes combine per-item values (with `exchange`).
    public var reduction: BatchReduction = .ordered

    let convs: [DilatedConvolution]
    let envelope: EnvelopeTraining<T>?
    let gainComputer: GainComputerTraining<T>?
    /// Frames entering block `n` (`frames[nblocks]` = output length).
    let frames: [Int]
    let items: [ItemState<T>]
    // Per-step packed weights and batch statistics, shared read-only by the workers.
    let packed: [Storage<T>]
    let transposed: [Storage<T>]
    let mean: [Storage<T>]
    let inverseStd: [Storage<T>]
    let gradientSums: [Storage<T>]
    let gradientProducts: [Storage<T>]
    /// The parts of an item's `gradient` that layers write: all but the
    /// convolution weights, which are gathered from `packedGradient`.
    let gradientRanges: [Range<Int>]
    /// Every item's values during a gather, item after item.
    let exchangeBuffer: Storage<T>

    public init(config: MicroTCNConfig, batchSize: Int, outputLength: Int, threads: Int = 2,
                weights: MicroTCNWeights, exchange: BatchExchange? = nil, warmup: Int = 0) {
        precondition(config.unsupportedReason == nil && config.kernelSize >= 2 && batchSize > 0 && outputLength > 0)
        precondition(warmup >= 0 && (warmup == 0 || config.hasLongMemory), "a warm-up is for long memory")
        self.config = config
        layout = ParameterLayout(config)
        self.batchSize = batchSize
        self.outputLength = outputLength
        self.threads = threads
        (parameters, runningMean, runningVariance) = layout.flatten(weights, as: T.self)
        gradient = [T](repeating: 0, count: layout.count)
        var convs: [DilatedConvolution] = []
        var frames = [outputLength + config.receptiveField - 1]
        for n in 0..<config.nblocks {
            let conv = DilatedConvolution(inChannels: config.inChannels(ofBlock: n), outChannels: config.convChannels(ofBlock: n),
                                          kernelSize: config.kernelSize, dilation: config.dilation(ofBlock: n),
                                          groups: config.convGroups(ofBlock: n))
            convs.append(conv)
            frames.append(frames[n] - conv.span)
        }
        self.convs = convs
        self.frames = frames
        self.warmup = warmup
        inputLength = warmup + frames[0]
        envelope = config.envelopes > 0
            ? EnvelopeTraining(channels: config.envelopes, outChannels: convs[0].outChannels, length: warmup + frames[0],
                               offset: warmup + convs[0].span, frames: frames[1])
            : nil
        gainComputer = config.hasGainComputer
            ? GainComputerTraining(knobs: config.nparams, feedback: config.hasGainFeedback, opticalCell: config.hasGainCell, length: warmup + frames[0],
                                   offset: warmup + config.receptiveField - 1, frames: outputLength)
            : nil
        packed = convs.map { Storage($0.weightCount) }
        transposed = convs.map { Storage($0.groups == 1 ? $0.weightCount : 0) }
        mean = convs.map { Storage($0.outChannels) }
        inverseStd = convs.map { Storage($0.outChannels) }
        gradientSums = convs.map { Storage($0.outChannels) }
        gradientProducts = convs.map { Storage($0.outChannels) }
        self.exchange = exchange
        let local = exchange.map { batchShare(batchSize, rank: $0.rank, size: $0.size) } ?? 0..<batchSize
        localItems = local
        // Another rank's item needs room only for what is gathered from it.
        let remoteFrames = [Int](repeating: 0, count: frames.count)
        let parameterLayout = ParameterLayout(config)
        items = (0..<batchSize).map { b in
            ItemState(config: config, frames: local.contains(b) ? frames : remoteFrames, warmup: local.contains(b) ? warmup : 0,
                      parameterCount: parameterLayout.count)
        }
        var ranges: [Range<Int>] = [], start = 0
        let convRanges = (0..<config.nblocks).map { n -> Range<Int> in
            let o = parameterLayout.offset("blocks.\(n).conv1.weight")
            return o..<(o + convs[n].weightCount)
        }.sorted { $0.lowerBound < $1.lowerBound }
        for r in convRanges {
            if r.lowerBound > start { ranges.append(start..<r.lowerBound) }
            start = r.upperBound
        }
        if start < parameterLayout.count { ranges.append(start..<parameterLayout.count) }
        gradientRanges = ranges
        let perItem = ranges.reduce(0) { $0 + $1.count } + convs.reduce(0) { $0 + $1.weightCount }
        exchangeBuffer = Storage(exchange == nil ? 0 : batchSize * max(perItem, 2 * convs.map(\.outChannels).max()!))
    }

    // MARK: Item access

    /// The input chunk of item `b` (`inputLength` samples) to fill before `forward`.
    public func input(_ b: Int) -> UnsafeMutablePointer<T> {
        warmup > 0 ? items[b].warmedInput.pointer : items[b].blockInputs[0].pointer
    }
    /// The knob (conditioning) values of item `b` (`nparams` values).
    public func knobs(_ b: Int) -> UnsafeMutablePointer<T> { items[b].knobs.pointer }
    /// The output of item `b` (`outputLength` samples) after `forward`.
    public func output(_ b: Int) -> UnsafeMutablePointer<T> { items[b].output.pointer }
    /// Where the loss writes the gradient with respect to `output(b)` before `backward`.
    public func outputGradient(_ b: Int) -> UnsafeMutablePointer<T> { items[b].outputGradient.pointer }

    /// The batch mean and (biased) variance block `n` normalized with in the last `forward`.
    public func batchStatistics(_ n: Int) -> (mean: [T], variance: [T]) {
        let cc = convs[n].outChannels
        return ((0..<cc).map { mean[n].pointer[$0] },
                (0..<cc).map { 1 / (inverseStd[n].pointer[$0] * inverseStd[n].pointer[$0]) - T(BatchNormalization.epsilon) })
    }

    public var weights: MicroTCNWeights {
        layout.weights(parameters: parameters, runningMean: runningMean, runningVariance: runningVariance)
    }

    // MARK: Forward

    /// Runs the batch through the network in training mode and updates the
    /// running statistics (unless `updateRunningStatistics` is false).
    // Callers in other modules get the Float and Double specializations, not
    // the (much slower) generic code.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(updateRunningStatistics: Bool = true) {
        let c = config
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            for n in 0..<c.nblocks {
                convs[n].pack(p + layout.offset("blocks.\(n).conv1.weight"), into: packed[n].pointer,
                              transposed: convs[n].groups == 1 ? transposed[n].pointer : nil)
            }
            forEachLocalItem { b in self.conditioningForward(b, p) }
            for n in 0..<c.nblocks {
                forEachLocalItem { b in self.convolutionForward(n, b, p) }
                if normalization == .batch { gatherItems { [($0.sums, 0..<self.convs[n].outChannels)] } }
                batchStatistics(n, update: updateRunningStatistics)
                forEachLocalItem { b in self.blockTailForward(n, b, p) }
            }
            forEachLocalItem { b in self.outputForward(b, p) }
        }
    }

    /// The gain computer's knob map weight (none without knobs) and bias in `base`.
    private func gainTensors<P>(_ base: P, _ advance: (P, Int) -> P) -> (weight: P?, bias: P) {
        (config.nparams > 0 ? advance(base, layout.offset("gain.knob.weight")) : nil,
         advance(base, layout.offset("gain.knob.bias")))
    }

    private func conditioningForward(_ b: Int, _ p: UnsafePointer<T>) {
        let c = config, item = items[b]
        guard c.nparams > 0 else { return }
        var x = UnsafePointer(item.knobs.pointer), fanIn = c.nparams
        for (i, width) in MicroTCNWeights.generatorWidths.enumerated() {
            let h = item.generator[i].pointer
            LinearMap(inputs: fanIn, outputs: width).forward(x, frames: 1, weights: p + layout.offset("gen.\(2 * i).weight"),
                                                             bias: p + layout.offset("gen.\(2 * i).bias"), into: h)
            for o in 0..<width { h[o] = max(h[o], 0) }
            x = UnsafePointer(h)
            fanIn = width
        }
        for n in 0..<c.nblocks {
            let cc = c.convChannels(ofBlock: n)
            LinearMap(inputs: MicroTCNWeights.embeddingSize, outputs: 2 * cc)
                .forward(x, frames: 1, weights: p + layout.offset("blocks.\(n).film.adaptor.weight"),
                         bias: p + layout.offset("blocks.\(n).film.adaptor.bias"), into: item.modulation[n].pointer)
        }
    }

    private func convolutionForward(_ n: Int, _ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], conv = convs[n], len = frames[n + 1], cc = conv.outChannels
        let z = item.normalized[n].pointer
        if n == 0 && warmup > 0 { item.blockInputs[0].pointer.update(from: item.warmedInput.pointer + warmup, count: frames[0]) }
        if config.grouped {
            let raw = item.convOutput[n].pointer
            conv.forward(item.blockInputs[n].pointer, frames: len, weights: packed[n].pointer, into: raw)
            LinearMap(inputs: cc, outputs: cc).forward(raw, frames: len, weights: p + layout.offset("blocks.\(n).conv1b.weight"),
                                                       bias: p + layout.offset("blocks.\(n).conv1b.bias"), into: z)
        } else {
            conv.forward(item.blockInputs[n].pointer, frames: len, weights: packed[n].pointer, into: z)
        }
        if n == 0, let envelope {
            envelope.forward(input(b), logTimeConstants: p + layout.offset("env.log_tau"),
                             projection: p + layout.offset("env.proj.weight"), levels: item.levels.pointer,
                             features: item.features.pointer, into: z)
        }
        item.sums.zero()
        BatchNormalization.accumulateSums(z, frames: len, channels: cc, into: item.sums.pointer)
    }

    private func batchStatistics(_ n: Int, update: Bool) {
        let cc = convs[n].outChannels, count = batchSize * frames[n + 1]
        let m = mean[n].pointer, s = inverseStd[n].pointer
        if normalization == .fixed {
            for ch in 0..<cc {
                m[ch] = runningMean[n][ch]
                s[ch] = 1 / (runningVariance[n][ch] + T(BatchNormalization.epsilon)).squareRoot()
            }
            return
        }
        m.update(repeating: 0, count: cc)
        for item in items { for ch in 0..<cc { m[ch] += item.sums.pointer[ch] } }
        for ch in 0..<cc { m[ch] /= T(count) }
        forEachLocalItem { b in
            let item = self.items[b]
            item.sums.zero()
            BatchNormalization.accumulateSquares(item.normalized[n].pointer, frames: self.frames[n + 1], channels: cc,
                                                 mean: m, into: item.sums.pointer)
        }
        gatherItems { [($0.sums, 0..<cc)] }
        let momentum = TrainingNetwork.runningMomentum
        for ch in 0..<cc {
            var squares: T = 0
            for item in items { squares += item.sums.pointer[ch] }
            let biased = squares / T(count)
            s[ch] = 1 / (biased + T(BatchNormalization.epsilon)).squareRoot()
            if update {
                let unbiased = count > 1 ? squares / T(count - 1) : biased
                runningMean[n][ch] = (1 - momentum) * runningMean[n][ch] + momentum * m[ch]
                runningVariance[n][ch] = (1 - momentum) * runningVariance[n][ch] + momentum * unbiased
            }
        }
    }

    /// The per-channel scale and shift after normalization: FiLM's from the
    /// adaptor, or BatchNorm's own affine for unconditioned models.
    private func affine(_ n: Int, _ b: Int, _ p: UnsafePointer<T>) -> (gamma: UnsafePointer<T>, beta: UnsafePointer<T>) {
        let cc = convs[n].outChannels
        if config.nparams > 0 {
            let m = UnsafePointer(items[b].modulation[n].pointer)
            return (m, m + cc)
        }
        return (p + layout.offset("blocks.\(n).bn.weight"), p + layout.offset("blocks.\(n).bn.bias"))
    }

    private func activationParameters(_ n: Int, _ p: UnsafePointer<T>) -> UnsafePointer<T>? {
        switch config.activation {
        case .prelu: return p + layout.offset("blocks.\(n).relu.weight")
        case .snake: return p + layout.offset("blocks.\(n).act.alpha")
        default: return nil
        }
    }

    private func blockTailForward(_ n: Int, _ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], c = config, len = frames[n + 1]
        let cc = convs[n].outChannels, cout = c.outChannels(ofBlock: n), cin = c.inChannels(ofBlock: n)
        let xhat = item.normalized[n].pointer
        let (gamma, beta) = affine(n, b, p)
        let r = p + layout.offset("blocks.\(n).res.weight"), x = item.blockInputs[n].pointer
        let residualFrame = convs[n].span - c.residualDelay, ratio = cout / cin
        let y = item.blockInputs[n + 1].pointer
        if c.activation == .prelu {
            PReLUBlockTail.forward(normalizing: xhat, frames: len, channels: cc, mean: mean[n].pointer,
                                   inverseStd: inverseStd[n].pointer, gamma: gamma, beta: beta,
                                   slope: activationParameters(n, p)!, residual: r, residualInput: x + residualFrame * cin,
                                   inChannels: cin, into: y)
            return
        }
        BatchNormalization.normalize(xhat, frames: len, channels: cc, mean: mean[n].pointer, inverseStd: inverseStd[n].pointer)
        let u = item.scratchZ.pointer
        for t in 0..<len {
            let src = xhat + t * cc, dst = u + t * cc
            for ch in 0..<cc { dst[ch] = src[ch] * gamma[ch] + beta[ch] }
        }
        ActivationLayer.forward(c.activation, input: u, frames: len, channels: cout, parameters: activationParameters(n, p), into: y)
        for t in 0..<len {
            let dst = y + t * cout, src = x + (t + residualFrame) * cin
            // Without the division the loop vectorizes; same values either way.
            if ratio == 1 {
                for ch in 0..<cout { dst[ch] += r[ch] * src[ch] }
            } else {
                for ch in 0..<cout { dst[ch] += r[ch] * src[ch / ratio] }
            }
        }
    }

    private func outputForward(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], cin = config.outChannels(ofBlock: config.nblocks - 1)
        let out = item.output.pointer
        LinearMap(inputs: cin, outputs: 1).forward(item.blockInputs[config.nblocks].pointer, frames: outputLength,
                                                  weights: p + layout.offset("output.weight"), bias: p + layout.offset("output.bias"),
                                                  into: out)
        for t in 0..<outputLength { out[t] = T.tanh(out[t]) }
        if let gainComputer {
            let (w, bias) = gainTensors(p) { $0 + $1 }
            let g = item.gains.pointer
            gainComputer.forward(input(b), knobs: item.knobs.pointer, weight: w, bias: bias, trace: item.gainTrace.pointer,
                                 gains: g)
            item.ungained.pointer.update(from: out, count: outputLength)
            for t in 0..<outputLength { out[t] *= g[t] }
        }
    }

    // MARK: Items across processes

    /// Runs `body(item)` for this process's items, over `threads`.
    func forEachLocalItem(_ body: (Int) -> Void) {
        let first = localItems.lowerBound
        forEachItem(localItems.count, threads: threads) { body(first + $0) }
    }

    /// Makes every rank's in-order sum over all items of the `parts` (a
    /// storage and a range of it) of each item come out as `reduction` says.
    private func gatherItems(_ parts: (ItemState<T>) -> [(Storage<T>, Range<Int>)]) {
        guard let exchange, exchange.size > 1 else { return }
        if reduction == .sum { return sumItems(parts, exchange) }
        let perItem = parts(items[0]).reduce(0) { $0 + $1.1.count }
        let buffer = exchangeBuffer.pointer
        precondition(perItem * batchSize <= exchangeBuffer.count)
        for b in localItems {
            var o = b * perItem
            for (storage, range) in parts(items[b]) {
                (buffer + o).update(from: storage.pointer + range.lowerBound, count: range.count)
                o += range.count
            }
        }
        let bytes = MemoryLayout<T>.stride * perItem
        let counts = (0..<exchange.size).map { batchShare(batchSize, rank: $0, size: exchange.size).count * bytes }
        exchange.allGather(UnsafeMutableRawBufferPointer(start: buffer, count: batchSize * bytes), byteCounts: counts)
        for b in 0..<batchSize where !localItems.contains(b) {
            var o = b * perItem
            for (storage, range) in parts(items[b]) {
                (storage.pointer + range.lowerBound).update(from: buffer + o, count: range.count)
                o += range.count
            }
        }
    }

    /// Adds this rank's items in item order, sums those partial sums over
    /// the ranks, and leaves the total in item 0 and zeros in the others, so
    /// the callers' in-order sums over items give the total unchanged.
    private func sumItems(_ parts: (ItemState<T>) -> [(Storage<T>, Range<Int>)], _ exchange: BatchExchange) {
        let perItem = parts(items[0]).reduce(0) { $0 + $1.1.count }
        let total = exchangeBuffer.pointer
        precondition(perItem <= exchangeBuffer.count)
        total.update(repeating: 0, count: perItem)
        for b in localItems {
            var o = 0
            for (storage, range) in parts(items[b]) {
                let src = storage.pointer + range.lowerBound, dst = total + o
                for i in 0..<range.count { dst[i] += src[i] }
                o += range.count
            }
        }
        if T.self == Float.self {
            exchange.allReduceSum(UnsafeMutableRawPointer(total).assumingMemoryBound(to: Float.self), count: perItem)
        } else {
            exchange.allReduceSum(UnsafeMutableRawPointer(total).assumingMemoryBound(to: Double.self), count: perItem)
        }
        for b in 0..<batchSize {
            var o = 0
            for (storage, range) in parts(items[b]) {
                if b == 0 {
                    (storage.pointer + range.lowerBound).update(from: total + o, count: range.count)
                } else {
                    (storage.pointer + range.lowerBound).update(repeating: 0, count: range.count)
                }
                o += range.count
            }
        }
    }

    /// Bytes each process receives per step combining per-item values
    /// (parameter gradients and, with batch statistics, BatchNorm's sums)
    /// when `size` processes share the batch: for `ordered`, every other
    /// process's items (a ring all-gather sends as many); for `sum`, what a
    /// ring all-reduce of one item's worth receives.
    public func exchangedBytesPerStep(processes size: Int, reduction: BatchReduction = .ordered) -> Int {
        let gradient = gradientRanges.reduce(0) { $0 + $1.count } + convs.reduce(0) { $0 + $1.weightCount }
        let statistics = normalization == .batch ? convs.reduce(0) { $0 + 4 * $1.outChannels } : 0
        let perItem = MemoryLayout<T>.stride * (gradient + statistics)
        switch reduction {
        case .ordered: return (batchSize - batchShare(batchSize, rank: 0, size: size).count) * perItem
        case .sum: return 2 * (size - 1) * perItem / size
        }
    }

    // MARK: Backward

    /// Computes `gradient` from the `outputGradient`s of the last `forward`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward() {
        let c = config
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            forEachLocalItem { b in
                self.items[b].gradient.zero()
                self.outputBackward(b, p)
            }
            for n in stride(from: c.nblocks - 1, through: 0, by: -1) {
                forEachLocalItem { b in self.blockTailBackward(n, b, p) }
                let cc = convs[n].outChannels
                if normalization == .batch { gatherItems { [($0.sums, 0..<cc), ($0.products, 0..<cc)] } }
                let s = gradientSums[n].pointer, q = gradientProducts[n].pointer
                s.update(repeating: 0, count: cc)
                q.update(repeating: 0, count: cc)
                for item in items {
                    for ch in 0..<cc { s[ch] += item.sums.pointer[ch]; q[ch] += item.products.pointer[ch] }
                }
                forEachLocalItem { b in self.convolutionBackward(n, b, p) }
            }
            forEachLocalItem { b in self.conditioningBackward(b, p) }
        }
        reduceGradients()
    }

    private func outputBackward(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], cin = config.outChannels(ofBlock: config.nblocks - 1)
        let g = item.outputGradient.pointer, pre = item.scratchZ.pointer
        let grad = item.gradient.pointer
        if let gainComputer {
            // y = gain · u: the gain's gradient is g u, u's is g · gain.
            let u = item.ungained.pointer, gains = item.gains.pointer, dGain = item.gainGradient.pointer
            for t in 0..<outputLength {
                dGain[t] = g[t] * u[t]
                pre[t] = g[t] * gains[t] * (1 - u[t] * u[t])
            }
            let (w, bias) = gainTensors(grad) { $0 + $1 }
            gainComputer.backward(input(b), knobs: item.knobs.pointer, trace: item.gainTrace.pointer, gains: gains,
                                  gainGradient: dGain, weightGradient: w, biasGradient: bias)
        } else {
            let out = item.output.pointer
            for t in 0..<outputLength { pre[t] = g[t] * (1 - out[t] * out[t]) }
        }
        let dy = item.upstream.pointer
        dy.update(repeating: 0, count: outputLength * cin)
        LinearMap(inputs: cin, outputs: 1).backward(item.blockInputs[config.nblocks].pointer, frames: outputLength, outputGradient: pre,
                                                   weights: p + layout.offset("output.weight"),
                                                   weightGradient: grad + layout.offset("output.weight"),
                                                   biasGradient: grad + layout.offset("output.bias"), inputGradient: dy)
    }

    /// From the block output gradient (`upstream`) to the normalized-value
    /// gradient (`scratchZ`), with the residual's share of the block input
    /// gradient started in `downstream`.
    private func blockTailBackward(_ n: Int, _ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], c = config, len = frames[n + 1], grad = item.gradient.pointer
        let cc = convs[n].outChannels, cout = c.outChannels(ofBlock: n), cin = c.inChannels(ofBlock: n)
        let dy = item.upstream.pointer, x = item.blockInputs[n].pointer
        // Residual.
        let r = p + layout.offset("blocks.\(n).res.weight"), dr = grad + layout.offset("blocks.\(n).res.weight")
        let residualFrame = convs[n].span - c.residualDelay, ratio = cout / cin
        let dx = item.downstream.pointer
        if n > 0 { dx.update(repeating: 0, count: frames[n] * cin) }
        let xhat = item.normalized[n].pointer, u = item.scratchZ.pointer
        let (gamma, beta) = affine(n, b, p)
        let dgamma = item.modulationGradient[n].pointer, dbeta = dgamma + cc
        if c.activation == .prelu {
            dgamma.update(repeating: 0, count: 2 * cc)
            item.sums.zero()
            item.products.zero()
            let gradients = PReLUBlockTail.Gradients(residual: dr, slope: grad + layout.offset("blocks.\(n).relu.weight"),
                                                     gamma: dgamma, beta: dbeta, sums: item.sums.pointer,
                                                     products: item.products.pointer)
            PReLUBlockTail.backward(outputGradient: dy, normalized: xhat, frames: len, channels: cc, gamma: gamma, beta: beta,
                                    slope: activationParameters(n, p)!, residual: r, residualInput: x + residualFrame * cin,
                                    inChannels: cin, inputGradient: n > 0 ? dx + residualFrame * cin : nil,
                                    gradients: gradients, into: u)
            addBatchNormAffineGradient(n, dgamma: dgamma, dbeta: dbeta, grad: grad)
            return
        }
        for t in 0..<len {
            let g = dy + t * cout, src = x + (t + residualFrame) * cin
            let dst = dx + (t + residualFrame) * cin
            if ratio == 1 {
                for ch in 0..<cout { dr[ch] += g[ch] * src[ch] }
                if n > 0 { for ch in 0..<cout { dst[ch] += r[ch] * g[ch] } }
            } else {
                for ch in 0..<cout { dr[ch] += g[ch] * src[ch / ratio] }
                if n > 0 { for ch in 0..<cout { dst[ch / ratio] += r[ch] * g[ch] } }
            }
        }
        // Activation, recomputing its input from the normalized values.
        for t in 0..<len {
            let src = xhat + t * cc, dst = u + t * cc
            for ch in 0..<cc { dst[ch] = src[ch] * gamma[ch] + beta[ch] }
        }
        let actOffset: Int? = c.activation == .prelu ? layout.offset("blocks.\(n).relu.weight")
            : c.activation == .snake ? layout.offset("blocks.\(n).act.alpha") : nil
        ActivationLayer.backward(c.activation, input: u, frames: len, channels: cout, parameters: activationParameters(n, p),
                                 outputGradient: dy, inputGradient: u, parameterGradient: actOffset.map { grad + $0 })
        // FiLM (or BatchNorm's affine): gradients of scale and shift, then of the normalized values.
        dgamma.update(repeating: 0, count: 2 * cc)
        for t in 0..<len {
            let g = u + t * cc, xh = xhat + t * cc
            for ch in 0..<cc { dgamma[ch] += g[ch] * xh[ch]; dbeta[ch] += g[ch]; g[ch] *= gamma[ch] }
        }
        addBatchNormAffineGradient(n, dgamma: dgamma, dbeta: dbeta, grad: grad)
        item.sums.zero()
        item.products.zero()
        BatchNormalization.accumulateGradientSums(normalized: xhat, gradient: u, frames: len, channels: cc,
                                                  sums: item.sums.pointer, products: item.products.pointer)
    }

    /// Without knobs the affine is BatchNorm's own, a parameter of the block.
    private func addBatchNormAffineGradient(_ n: Int, dgamma: UnsafePointer<T>, dbeta: UnsafePointer<T>,
                                            grad: UnsafeMutablePointer<T>) {
        guard config.nparams == 0 else { return }
        let cc = convs[n].outChannels
        let w = grad + layout.offset("blocks.\(n).bn.weight"), bb = grad + layout.offset("blocks.\(n).bn.bias")
        for ch in 0..<cc { w[ch] += dgamma[ch]; bb[ch] += dbeta[ch] }
    }

    private func convolutionBackward(_ n: Int, _ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], len = frames[n + 1], conv = convs[n], cc = conv.outChannels, grad = item.gradient.pointer
        let dz = item.scratchZ.pointer
        if normalization == .fixed {
            let s = inverseStd[n].pointer
            for t in 0..<len { let d = dz + t * cc; for ch in 0..<cc { d[ch] *= s[ch] } }
        } else {
            BatchNormalization.backward(normalized: item.normalized[n].pointer, gradient: dz, frames: len, channels: cc,
                                        count: batchSize * len, inverseStd: inverseStd[n].pointer,
                                        sums: gradientSums[n].pointer, products: gradientProducts[n].pointer)
        }
        if n == 0, let envelope {
            envelope.backward(input(b), logTimeConstants: p + layout.offset("env.log_tau"),
                              projection: p + layout.offset("env.proj.weight"), levels: item.levels.pointer,
                              features: item.features.pointer, outputGradient: dz, scratch: item.levelGradient.pointer,
                              logTimeConstantGradient: grad + layout.offset("env.log_tau"),
                              projectionGradient: grad + layout.offset("env.proj.weight"))
        }
        var convGradient = UnsafePointer(dz)
        if config.grouped {
            let draw = item.convGradient.pointer
            draw.update(repeating: 0, count: len * cc)
            LinearMap(inputs: cc, outputs: cc).backward(item.convOutput[n].pointer, frames: len, outputGradient: dz,
                                                       weights: p + layout.offset("blocks.\(n).conv1b.weight"),
                                                       weightGradient: grad + layout.offset("blocks.\(n).conv1b.weight"),
                                                       biasGradient: grad + layout.offset("blocks.\(n).conv1b.bias"),
                                                       inputGradient: draw)
            convGradient = UnsafePointer(draw)
        }
        // The weight gradient stays tap-major here; `reduceGradients` reorders it.
        conv.backward(item.blockInputs[n].pointer, frames: len, outputGradient: convGradient, weights: packed[n].pointer,
                      transposed: conv.groups == 1 ? UnsafePointer(transposed[n].pointer) : nil,
                      weightGradient: item.packedGradient[n].pointer, inputGradient: n > 0 ? item.downstream.pointer : nil)
        if n > 0 { swap(&item.upstream, &item.downstream) }
    }

    private func conditioningBackward(_ b: Int, _ p: UnsafePointer<T>) {
        let c = config, item = items[b], grad = item.gradient.pointer
        guard c.nparams > 0 else { return }
        let embedding = item.generator[2].pointer
        let de = item.generatorGradient[2].pointer
        de.update(repeating: 0, count: MicroTCNWeights.embeddingSize)
        for n in 0..<c.nblocks {
            let cc = convs[n].outChannels, name = "blocks.\(n).film.adaptor."
            LinearMap(inputs: MicroTCNWeights.embeddingSize, outputs: 2 * cc)
                .backward(embedding, frames: 1, outputGradient: item.modulationGradient[n].pointer,
                          weights: p + layout.offset(name + "weight"), weightGradient: grad + layout.offset(name + "weight"),
                          biasGradient: grad + layout.offset(name + "bias"), inputGradient: de)
        }
        for i in stride(from: 2, through: 0, by: -1) {
            let width = MicroTCNWeights.generatorWidths[i], h = item.generator[i].pointer, dh = item.generatorGradient[i].pointer
            for o in 0..<width where h[o] <= 0 { dh[o] = 0 }
            let fanIn = i == 0 ? c.nparams : MicroTCNWeights.generatorWidths[i - 1]
            let x = i == 0 ? UnsafePointer(item.knobs.pointer) : UnsafePointer(item.generator[i - 1].pointer)
            let dx: UnsafeMutablePointer<T>? = i == 0 ? nil : item.generatorGradient[i - 1].pointer
            dx?.update(repeating: 0, count: fanIn)
            LinearMap(inputs: fanIn, outputs: width).backward(x, frames: 1, outputGradient: dh,
                                                             weights: p + layout.offset("gen.\(2 * i).weight"),
                                                             weightGradient: grad + layout.offset("gen.\(2 * i).weight"),
                                                             biasGradient: grad + layout.offset("gen.\(2 * i).bias"), inputGradient: dx)
        }
    }

    /// Sums the per-item gradients in item order and puts convolution
    /// gradients back into PyTorch's layout.
    private func reduceGradients() {
        gatherItems { item in
            self.gradientRanges.map { (item.gradient, $0) } + item.packedGradient.map { ($0, 0..<$0.count) }
        }
        gradient.withUnsafeMutableBufferPointer { g in
            let total = g.baseAddress!
            total.update(repeating: 0, count: layout.count)
            for item in items {
                let src = item.gradient.pointer
                for i in 0..<layout.count { total[i] += src[i] }
            }
            for n in 0..<config.nblocks {
                let tapMajor = Storage<T>(convs[n].weightCount)
                for item in items {
                    let src = item.packedGradient[n].pointer
                    for i in 0..<tapMajor.count { tapMajor.pointer[i] += src[i] }
                    item.packedGradient[n].zero()
                }
                convs[n].unpackAdding(tapMajor.pointer, into: total + layout.offset("blocks.\(n).conv1.weight"))
            }
        }
    }
}

/// Everything one batch item keeps between forward and backward.
final class ItemState<T: TrainingScalar> {
    let knobs: Storage<T>
    /// `blockInputs[n]` enters block `n`; the last is the final block's output.
    let blockInputs: [Storage<T>]
    /// Convolution outputs, normalized in place during the forward pass.
    let normalized: [Storage<T>]
    /// Grouped models: the depthwise convolution's output before `conv1b`.
    let convOutput: [Storage<T>]
    let convGradient: Storage<T>
    let output: Storage<T>
    let outputGradient: Storage<T>
    let generator: [Storage<T>]
    let generatorGradient: [Storage<T>]
    /// FiLM scale and shift (`[gamma; beta]`) per block, and their gradients.
    let modulation: [Storage<T>]
    let modulationGradient: [Storage<T>]
    var upstream: Storage<T>
    var downstream: Storage<T>
    let scratchZ: Storage<T>
    let sums: Storage<T>
    let products: Storage<T>
    let gradient: Storage<T>
    let packedGradient: [Storage<T>]
    /// With a warm-up: the whole input, whose tail is copied into `blockInputs[0]`.
    let warmedInput: Storage<T>
    /// Envelopes: their levels at every input sample, block 0's features, and
    /// room for the gradient with respect to one envelope's levels.
    let levels: Storage<T>
    let features: Storage<T>
    let levelGradient: Storage<T>
    /// Gain computer: its trace over the input, its gains at the output
    /// frames, the output before them, and the gains' gradient.
    let gainTrace: Storage<T>
    let gains: Storage<T>
    let ungained: Storage<T>
    let gainGradient: Storage<T>

    init(config c: MicroTCNConfig, frames: [Int], warmup: Int, parameterCount: Int) {
        let blocks = 0..<c.nblocks
        let k = c.envelopes, inputs = c.hasLongMemory ? warmup + frames[0] : 0
        warmedInput = Storage(warmup > 0 ? inputs : 0)
        let gained = c.hasGainComputer ? frames[c.nblocks] : 0
        gainTrace = Storage(c.hasGainComputer ? GainComputerTraining<T>.traceCount(length: inputs, opticalCell: c.hasGainCell) : 0)
        gains = Storage(gained)
        ungained = Storage(gained)
        gainGradient = Storage(gained)
        levels = Storage(inputs * k)
        features = Storage(frames.count > 1 ? frames[1] * k : 0)
        levelGradient = Storage(inputs)
        knobs = Storage(c.nparams)
        blockInputs = [Storage(frames[0] * c.ninputs)] + blocks.map { Storage(frames[$0 + 1] * c.outChannels(ofBlock: $0)) }
        normalized = blocks.map { Storage(frames[$0 + 1] * c.convChannels(ofBlock: $0)) }
        convOutput = blocks.map { Storage(c.grouped ? frames[$0 + 1] * c.convChannels(ofBlock: $0) : 0) }
        let widest = blocks.map { frames[$0] * max(c.inChannels(ofBlock: $0), c.convChannels(ofBlock: $0)) }.max()!
        convGradient = Storage(c.grouped ? widest : 0)
        output = Storage(frames[c.nblocks])
        outputGradient = Storage(frames[c.nblocks])
        let gen = c.nparams > 0 ? MicroTCNWeights.generatorWidths : []
        generator = gen.map { Storage($0) }
        generatorGradient = gen.map { Storage($0) }
        modulation = blocks.map { Storage(2 * c.convChannels(ofBlock: $0)) }
        modulationGradient = blocks.map { Storage(2 * c.convChannels(ofBlock: $0)) }
        upstream = Storage(widest)
        downstream = Storage(widest)
        scratchZ = Storage(widest)
        let channels = blocks.map { c.convChannels(ofBlock: $0) }.max()!
        sums = Storage(channels)
        products = Storage(channels)
        gradient = Storage(parameterCount)
        packedGradient = blocks.map { n in
            Storage(c.convChannels(ofBlock: n) * (c.inChannels(ofBlock: n) / c.convGroups(ofBlock: n)) * c.kernelSize)
        }
    }
}
