import RealModule

/// The learned tensors of one micro-tcn block, in PyTorch's layouts.
public struct MicroTCNBlockWeights: Equatable, Sendable {
    /// `conv1.weight`: `[conv out, in / groups, kernel]`.
    public var conv: [Float]
    /// `conv1b.weight` `[out, out, 1]` and `conv1b.bias`, only for grouped models.
    public var pointwise: [Float]?
    public var pointwiseBias: [Float]?
    /// BatchNorm running statistics (`film.bn.*` or `bn.*`).
    public var runningMean: [Float]
    public var runningVariance: [Float]
    /// `film.adaptor.weight` `[2C, 32]` and bias, for conditioned models.
    public var adaptorWeight: [Float]?
    public var adaptorBias: [Float]?
    /// `bn.weight` and `bn.bias`, for unconditioned models.
    public var batchNormWeight: [Float]?
    public var batchNormBias: [Float]?
    /// PReLU slopes or Snake frequencies, one per channel.
    public var activationParameters: [Float]?
    /// `res.weight`: `[out, 1, 1]` (depthwise from the block input).
    public var residual: [Float]

    public init(conv: [Float], pointwise: [Float]? = nil, pointwiseBias: [Float]? = nil,
                runningMean: [Float], runningVariance: [Float],
                adaptorWeight: [Float]? = nil, adaptorBias: [Float]? = nil,
                batchNormWeight: [Float]? = nil, batchNormBias: [Float]? = nil,
                activationParameters: [Float]?, residual: [Float]) {
        self.conv = conv
        self.pointwise = pointwise
        self.pointwiseBias = pointwiseBias
        self.runningMean = runningMean
        self.runningVariance = runningVariance
        self.adaptorWeight = adaptorWeight
        self.adaptorBias = adaptorBias
        self.batchNormWeight = batchNormWeight
        self.batchNormBias = batchNormBias
        self.activationParameters = activationParameters
        self.residual = residual
    }
}

/// A complete micro-tcn: configuration and every tensor. This is the plain
/// description model files produce and the trainer updates.
public struct MicroTCNWeights: NetworkBlueprint, Equatable {
    public var config: MicroTCNConfig
    /// The conditioning network `gen`: knobs -> 16 -> 32 -> 32, ReLU after each.
    /// Empty for unconditioned models. Each entry is (weight `[out, in]`, bias).
    public var generator: [(weight: [Float], bias: [Float])]
    public var blocks: [MicroTCNBlockWeights]
    /// `output.weight` `[1, C, 1]` and `output.bias` `[1]`.
    public var outputWeight: [Float]
    public var outputBias: [Float]
    /// `env.*`, for configurations with envelopes.
    public var envelope: EnvelopeWeights?
    /// `gain.*`, for configurations with a gain computer.
    public var gainComputer: GainComputerWeights?

    public static let generatorWidths = [16, 32, 32]
    /// Width of the embedding the generator feeds to every FiLM adaptor.
    public static let embeddingSize = 32

    public init(config: MicroTCNConfig, generator: [(weight: [Float], bias: [Float])],
                blocks: [MicroTCNBlockWeights], outputWeight: [Float], outputBias: [Float], envelope: EnvelopeWeights? = nil,
                gainComputer: GainComputerWeights? = nil) {
        self.config = config
        self.generator = generator
        self.blocks = blocks
        self.outputWeight = outputWeight
        self.outputBias = outputBias
        self.envelope = envelope
        self.gainComputer = gainComputer
    }

    public static func == (a: MicroTCNWeights, b: MicroTCNWeights) -> Bool {
        a.config == b.config && a.blocks == b.blocks && a.outputWeight == b.outputWeight
            && a.outputBias == b.outputBias && a.envelope == b.envelope && a.gainComputer == b.gainComputer
            && a.generator.count == b.generator.count
            && zip(a.generator, b.generator).allSatisfy { $0.weight == $1.weight && $0.bias == $1.bias }
    }

    public var architectureName: String { "micro-tcn" }
    public var conditioningSize: Int { config.nparams }

    /// Every tensor the model must have, by micro-tcn's state_dict name, with its shape.
    public static func expectedShapes(_ c: MicroTCNConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        if c.nparams > 0 {
            var fanIn = c.nparams
            for (i, w) in generatorWidths.enumerated() {
                out.append(("gen.\(2 * i).weight", [w, fanIn]))
                out.append(("gen.\(2 * i).bias", [w]))
                fanIn = w
            }
        }
        for n in 0..<c.nblocks {
            let cin = c.inChannels(ofBlock: n), cc = c.convChannels(ofBlock: n), cout = c.outChannels(ofBlock: n)
            let p = "blocks.\(n)."
            out.append((p + "conv1.weight", [cc, cin / c.convGroups(ofBlock: n), c.kernelSize]))
            if c.grouped {
                out.append((p + "conv1b.weight", [cc, cc, 1]))
                out.append((p + "conv1b.bias", [cc]))
            }
            if c.nparams > 0 {
                out.append((p + "film.bn.running_mean", [cc]))
                out.append((p + "film.bn.running_var", [cc]))
                out.append((p + "film.adaptor.weight", [2 * cc, embeddingSize]))
                out.append((p + "film.adaptor.bias", [2 * cc]))
            } else {
                out.append((p + "bn.weight", [cc]))
                out.append((p + "bn.bias", [cc]))
                out.append((p + "bn.running_mean", [cc]))
                out.append((p + "bn.running_var", [cc]))
            }
            switch c.activation {
            case .prelu: out.append((p + "relu.weight", [cout]))
            case .snake: out.append((p + "act.alpha", [cout]))
            default: break
            }
            out.append((p + "res.weight", [cout, 1, 1]))
        }
        let last = c.outChannels(ofBlock: c.nblocks - 1)
        out.append(("output.weight", [c.noutputs, last, 1]))
        out.append(("output.bias", [c.noutputs]))
        if c.envelopes > 0 {
            out.append(("env.log_tau", [c.envelopes]))
            out.append(("env.proj.weight", [c.convChannels(ofBlock: 0), c.envelopes, 1]))
        }
        if c.hasGainComputer {
            if c.nparams > 0 { out.append(("gain.knob.weight", [GainComputer.parameterCount(opticalCell: c.hasGainCell), c.nparams])) }
            out.append(("gain.knob.bias", [GainComputer.parameterCount(opticalCell: c.hasGainCell)]))
        }
        return out
    }

    /// Builds the weights from named tensors (values flattened row-major).
    /// The caller has already checked names and shapes against `expectedShapes`.
    public init(config c: MicroTCNConfig, tensors: [String: [Float]]) {
        func t(_ name: String) -> [Float] { tensors[name]! }
        var generator: [(weight: [Float], bias: [Float])] = []
        if c.nparams > 0 {
            for i in 0..<MicroTCNWeights.generatorWidths.count {
                generator.append((t("gen.\(2 * i).weight"), t("gen.\(2 * i).bias")))
            }
        }
        var blocks: [MicroTCNBlockWeights] = []
        for n in 0..<c.nblocks {
            let p = "blocks.\(n)."
            let bn = c.nparams > 0 ? p + "film.bn." : p + "bn."
            let act: [Float]?
            switch c.activation {
            case .prelu: act = t(p + "relu.weight")
            case .snake: act = t(p + "act.alpha")
            default: act = nil
            }
            blocks.append(MicroTCNBlockWeights(
                conv: t(p + "conv1.weight"),
                pointwise: c.grouped ? t(p + "conv1b.weight") : nil,
                pointwiseBias: c.grouped ? t(p + "conv1b.bias") : nil,
                runningMean: t(bn + "running_mean"), runningVariance: t(bn + "running_var"),
                adaptorWeight: c.nparams > 0 ? t(p + "film.adaptor.weight") : nil,
                adaptorBias: c.nparams > 0 ? t(p + "film.adaptor.bias") : nil,
                batchNormWeight: c.nparams > 0 ? nil : t(p + "bn.weight"),
                batchNormBias: c.nparams > 0 ? nil : t(p + "bn.bias"),
                activationParameters: act, residual: t(p + "res.weight")))
        }
        self.init(config: c, generator: generator, blocks: blocks,
                  outputWeight: t("output.weight"), outputBias: t("output.bias"),
                  envelope: c.envelopes > 0 ? EnvelopeWeights(logTimeConstants: t("env.log_tau"), projection: t("env.proj.weight")) : nil,
                  gainComputer: c.hasGainComputer
                      ? GainComputerWeights(knobWeight: c.nparams > 0 ? t("gain.knob.weight") : [], knobBias: t("gain.knob.bias")) : nil)
    }

    /// Every tensor by its micro-tcn name, for writing model files.
    public var namedTensors: [(name: String, shape: [Int], values: [Float])] {
        var values: [String: [Float]] = [:]
        for (i, g) in generator.enumerated() {
            values["gen.\(2 * i).weight"] = g.weight
            values["gen.\(2 * i).bias"] = g.bias
        }
        for (n, b) in blocks.enumerated() {
            let p = "blocks.\(n)."
            values[p + "conv1.weight"] = b.conv
            values[p + "conv1b.weight"] = b.pointwise
            values[p + "conv1b.bias"] = b.pointwiseBias
            let bn = config.nparams > 0 ? p + "film.bn." : p + "bn."
            values[bn + "running_mean"] = b.runningMean
            values[bn + "running_var"] = b.runningVariance
            values[p + "film.adaptor.weight"] = b.adaptorWeight
            values[p + "film.adaptor.bias"] = b.adaptorBias
            values[p + "bn.weight"] = b.batchNormWeight
            values[p + "bn.bias"] = b.batchNormBias
            values[config.activation == .snake ? p + "act.alpha" : p + "relu.weight"] = b.activationParameters
            values[p + "res.weight"] = b.residual
        }
        values["output.weight"] = outputWeight
        values["output.bias"] = outputBias
        values["env.log_tau"] = envelope?.logTimeConstants
        values["env.proj.weight"] = envelope?.projection
        values["gain.knob.weight"] = gainComputer?.knobWeight
        values["gain.knob.bias"] = gainComputer?.knobBias
        return MicroTCNWeights.expectedShapes(config).map { ($0.name, $0.shape, values[$0.name] ?? []) }
    }

    public func makeNetwork() -> any StreamingNetwork { MicroTCN(self) }

    /// A randomly initialized model (He initialization for the convolutions,
    /// PyTorch's defaults elsewhere, a gain computer at its start
    /// (`GainComputerWeights.start`), envelopes spread from 10 ms to 3 s at
    /// `sampleRate`), for tests and as a training start.
    public static func random(_ c: MicroTCNConfig, seed: UInt64, sampleRate: Double = 44100) -> MicroTCNWeights {
        var rng = SplitMix64(seed: seed)
        func uniform(_ n: Int, bound: Float) -> [Float] { (0..<n).map { _ in rng.nextFloat(in: -bound...bound) } }
        var tensors: [String: [Float]] = [:]
        for (name, shape) in expectedShapes(c) {
            let n = shape.reduce(1, *)
            let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
            if name.hasSuffix("running_mean") { tensors[name] = [Float](repeating: 0, count: n) }
            else if name.hasSuffix("running_var") || name.hasSuffix("bn.weight") { tensors[name] = [Float](repeating: 1, count: n) }
            else if name.hasSuffix("relu.weight") { tensors[name] = [Float](repeating: 0.25, count: n) }
            else if name.hasSuffix("act.alpha") { tensors[name] = [Float](repeating: 1, count: n) }
            else if name == "env.log_tau" { tensors[name] = EnvelopeWeights.spreadTimeConstants(count: n, sampleRate: sampleRate) }
            else if name.hasPrefix("gain.") {
                let start = GainComputerWeights.start(knobs: c.nparams, sampleRate: sampleRate, opticalCell: c.hasGainCell)
                tensors[name] = name.hasSuffix("weight") ? start.knobWeight : start.knobBias
            }
            else if name.hasSuffix("conv1.weight") {
                // He et al. 2015 (uniform form): variance 2 / fan_in.
                tensors[name] = uniform(n, bound: (6 / Float(fanIn)).squareRoot())
            } else if name.hasSuffix(".bias") && !name.hasPrefix("output") && !name.contains("adaptor") && !name.contains("gen") {
                tensors[name] = [Float](repeating: 0, count: n)
            } else {
                tensors[name] = uniform(n, bound: 1 / Float(fanIn).squareRoot())
            }
        }
        return MicroTCNWeights(config: c, tensors: tensors)
    }
}

/// The running micro-tcn: streaming inference with folded FiLM.
///
/// Per block: `y = act(conv(x) * scale + shift) + r ⊙ x[n - d]`, where the
/// residual delay `d` is 1 for micro-tcn's models (its causal crop ends one
/// sample before the convolution's newest tap) and 0 for aligned ones.
public final class MicroTCN: StreamingNetwork {
    public let weights: MicroTCNWeights
    let convs: [CausalConv1d]
    let pointwise: [PointwiseConv?]
    let films: [FiLM]
    let activationParameters: [FloatBuffer?]
    let residuals: [FloatBuffer]
    let output: PointwiseConv
    let generator: [Dense]
    /// Adds the envelopes' features to block 0's convolution output.
    let envelope: EnvelopeSideChain?
    /// Computes the gain that multiplies the output.
    let gainComputer: GainComputer?

    /// Block `n`'s layers and per-channel vectors as the audio thread walks
    /// them: unmanaged references and raw pointers into what the arrays above
    /// own, fixed at `init`, so the per-block loop counts no references (the
    /// counting was 9% of the shipped la2a's time at block size 1).
    private struct BlockPath {
        let conv: Unmanaged<CausalConv1d>
        let pointwise: Unmanaged<PointwiseConv>?
        let scale, shift, residual: UnsafePointer<Float>
        let slope: UnsafePointer<Float>?
        let vectorTail: Bool
    }
    private let paths: UnsafeMutableBufferPointer<BlockPath>
    /// The scratch buffers' memory, set by `prepare` (the buffers own it).
    private var activationsA: UnsafeMutablePointer<Float>, activationsB: UnsafeMutablePointer<Float>
    private var convolved: UnsafeMutablePointer<Float>, pointwised: UnsafeMutablePointer<Float>
    private var gainValues: UnsafeMutablePointer<Float>

    private var maxBlock = 0
    /// Frames that go through all the layers together. Longer blocks are cut
    /// into chunks of this length: the activations of a chunk stay in cache,
    /// scratch stays small, and the result is the same bit for bit.
    static let chunkFrames = 256
    private var maxChunk = 0
    private var bufferA = FloatBuffer(count: 0)
    private var bufferB = FloatBuffer(count: 0)
    private var convScratch = FloatBuffer(count: 0)
    private var pointwiseScratch = FloatBuffer(count: 0)
    private var gains = FloatBuffer(count: 0)
    private let conditioning: FloatBuffer
    private let embedding: FloatBuffer
    private let denseScratch: FloatBuffer
    /// The constant input each block sees when the model hears silence
    /// (one more entry: the last block's output).
    private let steadyInputs: [FloatBuffer]
    /// What the model outputs after endless silence at the current
    /// conditioning; subtracted from every output sample when the model is
    /// silence-referenced, else 0.
    private var silenceOutput: Float = 0

    public init(_ w: MicroTCNWeights) {
        let c = w.config
        weights = w
        var convs: [CausalConv1d] = [], pointwise: [PointwiseConv?] = [], films: [FiLM] = []
        var acts: [FloatBuffer?] = [], residuals: [FloatBuffer] = [], steady: [FloatBuffer] = []
        for n in 0..<c.nblocks {
            let b = w.blocks[n]
            let cin = c.inChannels(ofBlock: n), cc = c.convChannels(ofBlock: n)
            convs.append(CausalConv1d(inChannels: cin, outChannels: cc, kernelSize: c.kernelSize,
                                      dilation: c.dilation(ofBlock: n), groups: c.convGroups(ofBlock: n), weights: b.conv))
            pointwise.append(c.grouped ? PointwiseConv(inChannels: cc, outChannels: cc, weights: b.pointwise!, bias: b.pointwiseBias) : nil)
            if c.nparams > 0 {
                films.append(FiLM(channels: cc, runningMean: b.runningMean, runningVariance: b.runningVariance,
                                  adaptor: Dense(inputs: MicroTCNWeights.embeddingSize, outputs: 2 * cc,
                                                 weights: b.adaptorWeight!, bias: b.adaptorBias!)))
            } else {
                films.append(FiLM(channels: cc, runningMean: b.runningMean, runningVariance: b.runningVariance,
                                  gamma: b.batchNormWeight!, beta: b.batchNormBias!))
            }
            acts.append(b.activationParameters.map(FloatBuffer.init))
            residuals.append(FloatBuffer(b.residual))
            steady.append(FloatBuffer(count: cin))
        }
        steady.append(FloatBuffer(count: c.outChannels(ofBlock: c.nblocks - 1)))
        self.convs = convs
        self.pointwise = pointwise
        self.films = films
        activationParameters = acts
        self.residuals = residuals
        steadyInputs = steady
        let last = c.outChannels(ofBlock: c.nblocks - 1)
        output = PointwiseConv(inChannels: last, outChannels: 1, weights: w.outputWeight, bias: w.outputBias)
        var fanIn = c.nparams
        generator = w.generator.enumerated().map { i, g in
            defer { fanIn = MicroTCNWeights.generatorWidths[i] }
            return Dense(inputs: fanIn, outputs: MicroTCNWeights.generatorWidths[i], weights: g.weight, bias: g.bias)
        }
        envelope = w.envelope.map { EnvelopeSideChain($0, outChannels: c.convChannels(ofBlock: 0)) }
        gainComputer = w.gainComputer.map { GainComputer($0, knobs: c.nparams, feedback: c.hasGainFeedback, opticalCell: c.hasGainCell) }
        conditioning = FloatBuffer(count: max(c.nparams, 1))
        embedding = FloatBuffer(count: MicroTCNWeights.embeddingSize)
        let widest = (0..<c.nblocks).map { c.convChannels(ofBlock: $0) }.max()!
        denseScratch = FloatBuffer(count: max(2 * widest, 64))
        paths = .allocate(capacity: c.nblocks)
        for n in 0..<c.nblocks {
            paths.baseAddress!.advanced(by: n).initialize(to: BlockPath(
                conv: .passUnretained(convs[n]), pointwise: pointwise[n].map { .passUnretained($0) },
                scale: UnsafePointer(films[n].scale.pointer), shift: UnsafePointer(films[n].shift.pointer),
                residual: UnsafePointer(residuals[n].pointer), slope: acts[n].map { UnsafePointer($0.pointer) },
                vectorTail: MicroTCN.hasVectorTail(c, block: n)))
        }
        (activationsA, activationsB) = (bufferA.pointer, bufferB.pointer)
        (convolved, pointwised, gainValues) = (convScratch.pointer, pointwiseScratch.pointer, gains.pointer)
        applyConditioning()
    }

    deinit { paths.deallocate() }

    public var conditioningSize: Int { weights.config.nparams }
    public var receptiveField: Int { weights.config.receptiveField }
    public var multiplyAddsPerSample: Int { weights.config.multiplyAddsPerSample }
    public var stateBytes: Int {
        convs.reduce(0) { $0 + $1.stateBytes } + bufferA.byteCount + bufferB.byteCount + convScratch.byteCount
            + pointwiseScratch.byteCount + gains.byteCount + (envelope?.stateBytes ?? 0)
    }

    public func prepare(maxBlockSize: Int) {
        let c = weights.config
        maxBlock = maxBlockSize
        maxChunk = min(maxBlockSize, MicroTCN.chunkFrames)
        for conv in convs { conv.prepare(maxBlockSize: maxChunk, extraHistory: 1) }
        envelope?.prepare(maxFrames: maxChunk)
        let widest = (0..<c.nblocks).map { max(c.convChannels(ofBlock: $0), c.inChannels(ofBlock: $0)) }.max()!
        bufferA = FloatBuffer(count: maxChunk * widest)
        bufferB = FloatBuffer(count: maxChunk * widest)
        convScratch = FloatBuffer(count: maxChunk * widest)
        pointwiseScratch = FloatBuffer(count: c.grouped ? maxChunk * widest : 0)
        gains = FloatBuffer(count: gainComputer == nil ? 0 : maxChunk)
        (activationsA, activationsB) = (bufferA.pointer, bufferB.pointer)
        (convolved, pointwised, gainValues) = (convScratch.pointer, pointwiseScratch.pointer, gains.pointer)
        reset()
    }

    public func setConditioning(_ values: UnsafePointer<Float>) {
        conditioning.pointer.update(from: values, count: weights.config.nparams)
        applyConditioning()
    }

    private func applyConditioning() {
        guard weights.config.nparams > 0 else { return }
        gainComputer?.setConditioning(conditioning.pointer)
        // Generator: knobs -> 16 -> 32 -> 32, ReLU after each layer.
        var src = UnsafePointer(conditioning.pointer)
        let a = denseScratch.pointer, b = embedding.pointer
        for (i, layer) in generator.enumerated() {
            let dst = i == generator.count - 1 ? b : (i % 2 == 0 ? a : a + 32)
            layer.apply(src, into: dst, relu: true)
            src = UnsafePointer(dst)
        }
        for film in films { film.condition(on: embedding.pointer, scratch: denseScratch.pointer) }
        if weights.config.silenceReferenced && maxBlock > 0 { settleSilence() }
    }

    /// Walks a constant zero input through the blocks: `steadyInputs` become
    /// the values every block holds after silence forever under the current
    /// conditioning, and `silenceOutput` the output then. Allocation-free
    /// (it runs on the audio thread when a knob moves).
    private func settleSilence() {
        let c = weights.config
        steadyInputs[0].fill(0)
        let tmp = convScratch.pointer
        for n in 0..<c.nblocks {
            let x = steadyInputs[n].pointer
            convs[n].steadyOutput(for: x, into: tmp)
            if n == 0 { envelope?.addSilentFeatures(into: tmp) }
            blockOutput(n, convOut: tmp, residualInput: UnsafePointer(x), frames: 1, into: steadyInputs[n + 1].pointer)
        }
        guard c.silenceReferenced else { silenceOutput = 0; return }
        let y = denseScratch.pointer
        output.apply(UnsafePointer(steadyInputs[c.nblocks].pointer), frames: 1, into: y)
        Activation.applyFast(.tanh, input: y, output: y, frames: 1, channels: 1, parameters: nil)
        silenceOutput = y[0]
    }

    /// Every block's history becomes the value it would hold after silence
    /// forever, so a reset model starts without a transient and whole-signal
    /// rendering matches micro-tcn run on zero-padded input.
    public func reset() {
        guard maxBlock > 0 else { return }
        envelope?.reset()
        gainComputer?.reset()
        settleSilence()
        for n in 0..<weights.config.nblocks { convs[n].reset(steadyInput: steadyInputs[n].pointer) }
    }

    /// The tail of block `n` after its convolution: (1x1) -> affine -> activation -> + residual.
    @inline(__always)
    private func blockOutput(_ n: Int, convOut: UnsafeMutablePointer<Float>,
                             residualInput: UnsafePointer<Float>, frames: Int, into out: UnsafeMutablePointer<Float>) {
        let c = weights.config
        let cc = c.convChannels(ofBlock: n), cout = c.outChannels(ofBlock: n), cin = c.inChannels(ofBlock: n)
        let path = paths[n]
        var pre = convOut
        if let pw = path.pointwise {
            pw._withUnsafeGuaranteedRef { $0.apply(UnsafePointer(convOut), frames: frames, into: pointwised) }
            pre = pointwised
        }
        let scale = path.scale, shift = path.shift, r = path.residual
        if path.vectorTail {
            let slope = path.slope
            switch c.activation {
            case .prelu:
                fusedTail(pre: pre, scale: scale, shift: shift, residual: r, residualInput: residualInput,
                          frames: frames, channels: cout, inChannels: cin, into: out) { z, ch in
                    Activation.prelu(z, slope: ConvolutionKernel.load(slope! + ch))
                }
            case .relu:
                fusedTail(pre: pre, scale: scale, shift: shift, residual: r, residualInput: residualInput,
                          frames: frames, channels: cout, inChannels: cin, into: out) { z, _ in Activation.relu(z) }
            default:
                fusedTail(pre: pre, scale: scale, shift: shift, residual: r, residualInput: residualInput,
                          frames: frames, channels: cout, inChannels: cin, into: out) { z, _ in z }
            }
            return
        }
        for t in 0..<frames {
            let row = pre + t * cc
            for ch in 0..<cc { row[ch] = row[ch] * scale[ch] + shift[ch] }
        }
        Activation.applyFast(c.activation, input: UnsafePointer(pre), output: out, frames: frames, channels: cout,
                         parameters: path.slope)
        let ratio = cout / cin
        for t in 0..<frames {
            let dst = out + t * cout, x = residualInput + t * cin
            for ch in 0..<cout { dst[ch] += r[ch] * x[ch / ratio] }
        }
    }

    /// Whether block `n`'s tail runs sixteen channels at a time: an activation
    /// with an exact vector form, a width that is a multiple of 16, and a
    /// residual that is either channel for channel or one input to all.
    private static func hasVectorTail(_ c: MicroTCNConfig, block n: Int) -> Bool {
        let cin = c.inChannels(ofBlock: n), cout = c.outChannels(ofBlock: n)
        return Activation.hasExactVectorForm(c.activation) && cout % 16 == 0 && (cin == cout || cin == 1)
    }

    /// Affine, activation and residual in one pass over the block's frames:
    /// `out = act(pre * scale + shift) + r * x[n - 1]`.
    @inline(__always)
    private func fusedTail(pre: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                           residual: UnsafePointer<Float>, residualInput: UnsafePointer<Float>, frames: Int,
                           channels: Int, inChannels: Int, into out: UnsafeMutablePointer<Float>,
                           activation: (SIMD16<Float>, Int) -> SIMD16<Float>) {
        typealias K = ConvolutionKernel
        for t in 0..<frames {
            let row = pre + t * channels, dst = out + t * channels, x = residualInput + t * inChannels
            var ch = 0
            while ch < channels {
                let z = K.load(shift + ch).addingProduct(K.load(row + ch), K.load(scale + ch))
                let skip = inChannels == 1 ? SIMD16(repeating: x[0]) : K.load(x + ch)
                K.store(activation(z, ch).addingProduct(K.load(residual + ch), skip), dst + ch)
                ch += 16
            }
        }
    }

    public func process(_ input: UnsafePointer<Float>, _ outputSamples: UnsafeMutablePointer<Float>, frameCount: Int) {
        precondition(frameCount <= maxBlock, "block larger than prepared")
        var done = 0
        while done < frameCount {
            let n = min(maxChunk, frameCount - done)
            processChunk(input + done, outputSamples + done, frameCount: n)
            done += n
        }
    }

    private func processChunk(_ input: UnsafePointer<Float>, _ outputSamples: UnsafeMutablePointer<Float>,
                              frameCount: Int) {
        let c = weights.config
        var x = input
        var dst = activationsA
        let convolved = convolved
        for n in 0..<c.nblocks {
            let delayed = paths[n].conv._withUnsafeGuaranteedRef { conv in
                conv.push(x, frames: frameCount)
                conv.convolve(frames: frameCount, into: convolved)
                return conv.pastInput(frames: frameCount, delay: c.residualDelay)
            }
            if n == 0 { envelope?.addFeatures(of: input, frames: frameCount, into: convolved) }
            blockOutput(n, convOut: convolved, residualInput: delayed, frames: frameCount, into: dst)
            x = UnsafePointer(dst)
            dst = dst == activationsA ? activationsB : activationsA
        }
        output.apply(x, frames: frameCount, into: outputSamples)
        Activation.applyFast(.tanh, input: outputSamples, output: outputSamples, frames: frameCount, channels: 1,
                             parameters: nil)
        if silenceOutput != 0 { for t in 0..<frameCount { outputSamples[t] -= silenceOutput } }
        if let gainComputer {
            let g = gainValues
            gainComputer.gains(of: input, frames: frameCount, into: g)
            for t in 0..<frameCount { outputSamples[t] *= g[t] }
        }
    }
}
