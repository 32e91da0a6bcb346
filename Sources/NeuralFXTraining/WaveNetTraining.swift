import NeuralFXCore
import RealModule

/// Neural Amp Modeler's WaveNet as it trains: a batch of chunks forward and
/// the exact gradient of a loss back to every weight, the weights being the
/// flat list a .nam file stores, in its order (see
/// `NAMWaveNetLayerArrayConfig.weightCount`), `head_scale` last.
///
/// The function is `NAMWaveNet`'s (and NAM's PyTorch module's): per array a
/// bias-free 1x1 rechannel; per layer `z = act(conv_d(x) + mixer c)` (or the
/// gated unit), `head += z`, `x' = x + W1 z + b1`; per array a head
/// rechannel; the output `head_scale` times the last one. The condition `c`
/// is the audio input, followed by the knob values when the configuration's
/// `conditionSize` exceeds 1 (constant over a chunk).
///
/// Chunks are unpadded, as micro-tcn's: `inputLength = outputLength +
/// receptiveField - 1` samples in, output `t` belonging to input sample
/// `t + receptiveField - 1`. Every signal is time-major and aligned to the
/// chunk's end (NAM trims from the front). Items run in parallel, each
/// forward and backward on its own buffers; per-item gradients are summed in
/// item order, so results do not depend on the thread count.
public final class WaveNetTrainingNetwork<T: TrainingScalar> {
    public let config: NAMWaveNetConfig
    public let batchSize: Int
    public let outputLength: Int
    public let inputLength: Int
    public var threads: Int
    /// The weights, flat, exactly as a .nam file lists them.
    public var parameters: [T]
    /// Gradient of the last `backward`, same layout as `parameters`.
    public private(set) var gradient: [T]
    /// NAM's trainer holds `head_scale` fixed; when false (the default) its
    /// gradient reads 0 so an optimizer leaves it alone.
    public var learnsHeadScale = false

    let arrays: [WaveNetArrayPlan<T>]
    let items: [WaveNetItem<T>]

    /// Why `config` cannot train here, if it cannot.
    public static func problem(_ config: NAMWaveNetConfig) -> String? {
        guard let first = config.layerArrays.first else { return "WaveNet has no layer arrays" }
        if config.head != nil { return "training a WaveNet with a post-head is not supported (NAM's presets have none)" }
        for (i, a) in config.layerArrays.enumerated() {
            if a.dilations.isEmpty || a.channels < 1 || a.kernelSize < 1 || a.headSize < 1 || a.dilations.contains(where: { $0 < 1 }) {
                return "layer array \(i) has no layers or a size below 1"
            }
            if a.conditionSize != first.conditionSize { return "layer array \(i) has another condition_size than the first" }
            if i == 0 ? a.inputSize != 1 : a.inputSize != config.layerArrays[i - 1].channels {
                return "layer array \(i) has input_size \(a.inputSize), which does not chain"
            }
            if i > 0 && a.channels != config.layerArrays[i - 1].headSize {
                return "layer array \(i) has \(a.channels) channels but the previous head_size is \(config.layerArrays[i - 1].headSize)"
            }
        }
        if first.conditionSize < 1 { return "condition_size must be at least 1 (the audio)" }
        if config.layerArrays.last!.headSize != 1 { return "the last layer array's head_size must be 1 (mono output)" }
        return nil
    }

    public init(config: NAMWaveNetConfig, batchSize: Int, outputLength: Int, threads: Int = 2, weights: [T]) {
        precondition(Self.problem(config) == nil, Self.problem(config) ?? "")
        precondition(weights.count == config.weightCount && batchSize > 0 && outputLength > 0)
        self.config = config
        self.batchSize = batchSize
        self.outputLength = outputLength
        self.threads = threads
        parameters = weights
        gradient = [T](repeating: 0, count: weights.count)
        inputLength = outputLength + config.receptiveField - 1
        var offset = 0, frames = inputLength
        func take(_ n: Int) -> Int { defer { offset += n }; return offset }
        var arrays: [WaveNetArrayPlan<T>] = []
        for a in config.layerArrays {
            let c = a.channels, cc = a.convChannels
            let rechannel = WaveNetConvolution<T>(inChannels: a.inputSize, outChannels: c, kernelSize: 1, dilation: 1,
                                                  offset: take(a.inputSize * c))
            let arrayFrames = frames
            var layers: [WaveNetLayerPlan<T>] = []
            for d in a.dilations {
                let conv = WaveNetConvolution<T>(inChannels: c, outChannels: cc, kernelSize: a.kernelSize, dilation: d,
                                                 offset: take(cc * c * a.kernelSize))
                let convBias = take(cc), mixer = take(cc * a.conditionSize)
                let pointwise = WaveNetConvolution<T>(inChannels: c, outChannels: c, kernelSize: 1, dilation: 1, offset: take(c * c))
                layers.append(WaveNetLayerPlan(inputFrames: frames, conv: conv, convBias: convBias, mixer: mixer,
                                               pointwise: pointwise, pointwiseBias: take(c)))
                frames -= conv.shape.span
            }
            let head = WaveNetConvolution<T>(inChannels: c, outChannels: a.headSize, kernelSize: 1, dilation: 1,
                                             offset: take(a.headSize * c))
            let headBias = a.headBias ? take(a.headSize) : nil
            arrays.append(WaveNetArrayPlan(config: a, inputFrames: arrayFrames, rechannel: rechannel, layers: layers,
                                           head: head, headBias: headBias))
        }
        precondition(offset + 1 == config.weightCount && frames == outputLength)
        self.arrays = arrays
        items = (0..<batchSize).map { _ in WaveNetItem(arrays: arrays, inputLength: outputLength + config.receptiveField - 1,
                                                       knobs: config.layerArrays[0].conditionSize - 1,
                                                       parameterCount: config.weightCount) }
    }

    // MARK: Item access

    /// The input chunk of item `b` (`inputLength` samples) to fill before `forward`.
    public func input(_ b: Int) -> UnsafeMutablePointer<T> { items[b].input.pointer }
    /// The knob values of item `b` (`conditionSize - 1` values).
    public func knobs(_ b: Int) -> UnsafeMutablePointer<T> { items[b].knobs.pointer }
    /// The output of item `b` (`outputLength` samples) after `forward`.
    public func output(_ b: Int) -> UnsafeMutablePointer<T> { items[b].output.pointer }
    /// Where the loss writes the gradient with respect to `output(b)` before `backward`.
    public func outputGradient(_ b: Int) -> UnsafeMutablePointer<T> { items[b].outputGradient.pointer }

    var headScaleIndex: Int { parameters.count - 1 }

    // MARK: Forward

    /// Runs the batch through the network.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward() {
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            for a in arrays { a.pack(p) }
            forEachItem(batchSize, threads: threads) { b in self.forwardItem(b, p) }
        }
    }

    private func forwardItem(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b]
        var source = UnsafePointer(item.input.pointer)
        for (ai, a) in arrays.enumerated() {
            let c = a.config.channels, cc = a.config.convChannels, end = a.endFrames
            let lastArray = ai == arrays.count - 1
            a.rechannel.forward(source, frames: a.inputFrames, into: item.residual[ai][0].pointer)
            let h = item.head[ai].pointer
            if ai == 0 {
                h.update(repeating: 0, count: end * c)
            } else {
                // The previous head output, its newest frames (its head_size is this array's channels).
                h.update(from: item.headOutput[ai - 1].pointer + (arrays[ai - 1].endFrames - end) * c, count: end * c)
            }
            for (li, l) in a.layers.enumerated() {
                let x = item.residual[ai][li].pointer, u = item.preActivation[ai][li].pointer, f = l.outputFrames
                l.conv.forward(x, frames: f, into: u)
                // The knobs' share of the mix is the same on every frame.
                let shift = item.conditionShift.pointer
                conditionShift(l, a.config, p, knobs: item.knobs.pointer, into: shift)
                let mix = p + l.mixer, cond = a.config.conditionSize
                let audio = item.input.pointer + (inputLength - f)
                for t in 0..<f {
                    let row = u + t * cc, s = audio[t]
                    for o in 0..<cc { row[o] += shift[o] + mix[o * cond] * s }
                }
                let z = item.activated[ai][li].pointer
                activate(a.config, u, frames: f, into: z)
                let newest = z + (f - end) * c
                for i in 0..<(end * c) { h[i] += newest[i] }
                // The last layer's residual output feeds nothing.
                guard !(lastArray && li == a.layers.count - 1) else { continue }
                let next = item.residual[ai][li + 1].pointer, bias = p + l.pointwiseBias, span = l.conv.shape.span
                l.pointwise.forward(z, frames: f, into: next)
                for t in 0..<f {
                    let row = next + t * c, skip = x + (t + span) * c
                    for o in 0..<c { row[o] += bias[o] + skip[o] }
                }
            }
            let out = item.headOutput[ai].pointer, hs = a.config.headSize
            a.head.forward(h, frames: end, into: out)
            if let hb = a.headBias {
                for t in 0..<end { for o in 0..<hs { out[t * hs + o] += p[hb + o] } }
            }
            source = UnsafePointer(item.residual[ai][a.layers.count].pointer)
        }
        let scale = p[headScaleIndex], head = item.headOutput[arrays.count - 1].pointer, out = item.output.pointer
        for t in 0..<outputLength { out[t] = scale * head[t] }
    }

    /// The convolution bias plus the knob columns of the mixer times the knobs.
    private func conditionShift(_ l: WaveNetLayerPlan<T>, _ a: NAMWaveNetLayerArrayConfig, _ p: UnsafePointer<T>,
                                knobs: UnsafePointer<T>, into shift: UnsafeMutablePointer<T>) {
        let cond = a.conditionSize
        for o in 0..<a.convChannels {
            var v = p[l.convBias + o]
            for k in 1..<cond { v += p[l.mixer + o * cond + k] * knobs[k - 1] }
            shift[o] = v
        }
    }

    private func activate(_ a: NAMWaveNetLayerArrayConfig, _ u: UnsafePointer<T>, frames: Int, into z: UnsafeMutablePointer<T>) {
        let c = a.channels, act = a.activation
        if a.gated {
            for t in 0..<frames {
                let src = u + t * 2 * c, dst = z + t * c
                for o in 0..<c { dst[o] = act.value(src[o]) * Activation.sigmoid(src[c + o]) }
            }
        } else if act == .tanh && T.self == Float.self {
            // The engine's FastTanh (what the written model plays with, by
            // default): libm's tanhf took most of the training time.
            let n = frames * c, src = UnsafeRawPointer(u).assumingMemoryBound(to: Float.self)
            let dst = UnsafeMutableRawPointer(z).assumingMemoryBound(to: Float.self)
            var i = 0
            while i + 16 <= n {
                let v = FastTanh.tanh(UnsafeRawPointer(src + i).loadUnaligned(as: FastTanh.Lanes.self))
                UnsafeMutableRawPointer(dst + i).storeBytes(of: v, as: FastTanh.Lanes.self)
                i += 16
            }
            while i < n { dst[i] = FastTanh.tanh(src[i]); i += 1 }
        } else {
            for i in 0..<(frames * c) { z[i] = act.value(u[i]) }
        }
    }

    // MARK: Backward

    /// Computes `gradient` from the `outputGradient`s of the last `forward`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward() {
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            forEachItem(batchSize, threads: threads) { b in self.backwardItem(b, p) }
        }
        gradient.withUnsafeMutableBufferPointer { g in
            let total = g.baseAddress!
            total.update(repeating: 0, count: g.count)
            for item in items {
                let src = item.gradient.pointer
                for i in 0..<g.count { total[i] += src[i] }
            }
            if !learnsHeadScale { total[headScaleIndex] = 0 }
        }
    }

    private func backwardItem(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], grad = item.gradient.pointer
        item.gradient.zero()
        let scale = p[headScaleIndex], dy = item.outputGradient.pointer, head = item.headOutput[arrays.count - 1].pointer
        var headOut = item.headOutputGradient[arrays.count - 1].pointer
        var dScale: T = 0
        for t in 0..<outputLength {
            dScale += dy[t] * head[t]
            headOut[t] = scale * dy[t]
        }
        grad[headScaleIndex] = dScale
        var gx = item.gradientA.pointer, spare = item.gradientB.pointer
        for ai in arrays.indices.reversed() {
            let a = arrays[ai], c = a.config.channels, end = a.endFrames, hs = a.config.headSize
            let lastArray = ai == arrays.count - 1
            if let hb = a.headBias {
                for t in 0..<end { for o in 0..<hs { grad[hb + o] += headOut[t * hs + o] } }
            }
            let dh = item.headGradient.pointer
            dh.update(repeating: 0, count: end * c)
            a.head.backward(item.head[ai].pointer, frames: end, outputGradient: headOut, scratch: item.weightScratch.pointer,
                            gradient: grad, inputGradient: dh)
            // `gx` holds the gradient of this array's residual output (from
            // the next array's rechannel), or nothing in the last array.
            for li in a.layers.indices.reversed() {
                let l = a.layers[li], f = l.outputFrames, span = l.conv.shape.span
                let x = item.residual[ai][li].pointer, u = item.preActivation[ai][li].pointer, z = item.activated[ai][li].pointer
                let dz = item.activatedGradient.pointer
                dz.update(repeating: 0, count: (f - end) * c)
                (dz + (f - end) * c).update(from: dh, count: end * c)
                spare.update(repeating: 0, count: l.inputFrames * c)
                if !(lastArray && li == a.layers.count - 1) {
                    l.pointwise.backward(z, frames: f, outputGradient: gx, scratch: item.weightScratch.pointer, gradient: grad,
                                         inputGradient: dz)
                    let db = grad + l.pointwiseBias
                    for t in 0..<f {
                        let g = gx + t * c, skip = spare + (t + span) * c
                        for o in 0..<c { db[o] += g[o]; skip[o] += g[o] }
                    }
                }
                let du = item.preActivationGradient.pointer
                activationBackward(a.config, u, z, frames: f, outputGradient: dz, into: du)
                mixBackward(l, a.config, du, frames: f, audio: item.input.pointer + (inputLength - f),
                            knobs: item.knobs.pointer, scratch: item.weightScratch.pointer, gradient: grad)
                l.conv.backward(x, frames: f, outputGradient: du, scratch: item.weightScratch.pointer, gradient: grad,
                                inputGradient: spare)
                swap(&gx, &spare)
            }
            // `gx` now holds the gradient of the rechannel's output.
            let source = ai == 0 ? UnsafePointer(item.input.pointer) : UnsafePointer(item.residual[ai - 1][arrays[ai - 1].layers.count].pointer)
            if ai > 0 {
                spare.update(repeating: 0, count: a.inputFrames * a.config.inputSize)
            }
            a.rechannel.backward(source, frames: a.inputFrames, outputGradient: gx, scratch: item.weightScratch.pointer,
                                 gradient: grad, inputGradient: ai > 0 ? spare : nil)
            swap(&gx, &spare)
            if ai > 0 {
                // The head accumulator started from the previous head output's newest frames.
                let previousEnd = arrays[ai - 1].endFrames
                headOut = item.headOutputGradient[ai - 1].pointer
                headOut.update(repeating: 0, count: (previousEnd - end) * c)
                (headOut + (previousEnd - end) * c).update(from: dh, count: end * c)
            }
        }
    }

    private func activationBackward(_ a: NAMWaveNetLayerArrayConfig, _ u: UnsafePointer<T>, _ z: UnsafePointer<T>, frames: Int,
                                    outputGradient dz: UnsafePointer<T>, into du: UnsafeMutablePointer<T>) {
        let c = a.channels, act = a.activation
        if a.gated {
            for t in 0..<frames {
                let src = u + t * 2 * c, g = dz + t * c, dst = du + t * 2 * c
                for o in 0..<c {
                    let s = Activation.sigmoid(src[c + o])
                    dst[o] = g[o] * act.derivative(src[o]) * s
                    dst[c + o] = g[o] * act.value(src[o]) * s * (1 - s)
                }
            }
        } else if act == .tanh {
            // From the stored output: 1 - tanh^2.
            for i in 0..<(frames * c) { du[i] = dz[i] * (1 - z[i] * z[i]) }
        } else {
            for i in 0..<(frames * c) { du[i] = dz[i] * act.derivative(u[i]) }
        }
    }

    /// Gradients of the convolution bias and the mixer (audio and knob columns).
    private func mixBackward(_ l: WaveNetLayerPlan<T>, _ a: NAMWaveNetLayerArrayConfig, _ du: UnsafePointer<T>, frames: Int,
                             audio: UnsafePointer<T>, knobs: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>,
                             gradient grad: UnsafeMutablePointer<T>) {
        let cc = a.convChannels, cond = a.conditionSize
        let db = grad + l.convBias, dm = grad + l.mixer
        // Frame by frame, so the gradient is read once, in order.
        let sums = scratch, audioSums = scratch + cc
        sums.update(repeating: 0, count: 2 * cc)
        for t in 0..<frames {
            let g = du + t * cc, s = audio[t]
            for o in 0..<cc {
                sums[o] += g[o]
                audioSums[o] += g[o] * s
            }
        }
        for o in 0..<cc {
            db[o] += sums[o]
            dm[o * cond] += audioSums[o]
            for k in 1..<cond { dm[o * cond + k] += sums[o] * knobs[k - 1] }
        }
    }
}

/// A convolution of the WaveNet (dilated, or 1x1 with kernel 1) and its
/// weights repacked each step for `DilatedConvolution`'s kernels.
struct WaveNetConvolution<T: TrainingScalar> {
    let shape: DilatedConvolution
    /// Where its PyTorch-ordered weights start in the flat list.
    let offset: Int
    let packed: Storage<T>
    let transposed: Storage<T>

    init(inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int, offset: Int) {
        shape = DilatedConvolution(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                                   dilation: dilation, groups: 1)
        self.offset = offset
        packed = Storage(shape.weightCount)
        transposed = Storage(shape.weightCount)
    }

    func pack(_ p: UnsafePointer<T>) { shape.pack(p + offset, into: packed.pointer, transposed: transposed.pointer) }

    /// The vector width the kernels take for `channels`: 16 or, for NAM's
    /// 8-channel layers, 8; nil where plain loops remain.
    static func lanes(_ channels: Int) -> Int? { channels % 16 == 0 ? 16 : channels % 8 == 0 ? 8 : nil }

    func forward(_ x: UnsafePointer<T>, frames: Int, into z: UnsafeMutablePointer<T>) {
        let s = shape
        switch Self.lanes(s.outChannels) {
        case 8?:
            ConvolutionKernels.forward(x, frames: frames, inChannels: s.inChannels, outChannels: s.outChannels, kernelSize: s.kernelSize,
                                       dilation: s.dilation, weights: packed.pointer, into: z, vector: SIMD8<T>.self)
        default: s.forward(x, frames: frames, weights: packed.pointer, into: z)
        }
    }

    /// Adds the weight gradient (through `scratch`, tap-major) into
    /// `gradient` at `offset` and the input gradient into `inputGradient`.
    func backward(_ x: UnsafePointer<T>, frames: Int, outputGradient dz: UnsafePointer<T>, scratch: UnsafeMutablePointer<T>,
                  gradient: UnsafeMutablePointer<T>, inputGradient dx: UnsafeMutablePointer<T>?) {
        let s = shape
        scratch.update(repeating: 0, count: s.weightCount)
        let outputLanes = Self.lanes(s.outChannels), inputLanes = Self.lanes(s.inChannels)
        if let outputLanes, s.inChannels % 4 == 0, dx == nil || inputLanes != nil {
            if outputLanes == 16 {
                weightGradient(x, frames: frames, outputGradient: dz, into: scratch, vector: SIMD16<T>.self)
            } else {
                weightGradient(x, frames: frames, outputGradient: dz, into: scratch, vector: SIMD8<T>.self)
            }
            if let dx, inputLanes == 16 {
                inputGradient(dz, frames: frames, into: dx, vector: SIMD16<T>.self)
            } else if let dx {
                inputGradient(dz, frames: frames, into: dx, vector: SIMD8<T>.self)
            }
        } else {
            s.backward(x, frames: frames, outputGradient: dz, weights: packed.pointer, transposed: transposed.pointer,
                       weightGradient: scratch, inputGradient: dx)
        }
        s.unpackAdding(scratch, into: gradient + offset)
    }

    private func weightGradient<V: SIMD>(_ x: UnsafePointer<T>, frames: Int, outputGradient dz: UnsafePointer<T>,
                                         into dw: UnsafeMutablePointer<T>, vector: V.Type) where V.Scalar == T {
        ConvolutionKernels.weightGradient(x, frames: frames, inChannels: shape.inChannels, outChannels: shape.outChannels,
                                          kernelSize: shape.kernelSize, dilation: shape.dilation, outputGradient: dz, into: dw,
                                          vector: vector)
    }

    private func inputGradient<V: SIMD>(_ dz: UnsafePointer<T>, frames: Int, into dx: UnsafeMutablePointer<T>,
                                        vector: V.Type) where V.Scalar == T {
        ConvolutionKernels.inputGradient(dz, frames: frames, inChannels: shape.inChannels, outChannels: shape.outChannels,
                                         kernelSize: shape.kernelSize, dilation: shape.dilation, transposed: transposed.pointer,
                                         into: dx, vector: vector)
    }
}

struct WaveNetLayerPlan<T: TrainingScalar> {
    let inputFrames: Int
    let conv: WaveNetConvolution<T>
    /// Offsets in the flat weights.
    let convBias: Int
    let mixer: Int
    let pointwise: WaveNetConvolution<T>
    let pointwiseBias: Int
    var outputFrames: Int { inputFrames - conv.shape.span }
}

struct WaveNetArrayPlan<T: TrainingScalar> {
    let config: NAMWaveNetLayerArrayConfig
    let inputFrames: Int
    let rechannel: WaveNetConvolution<T>
    let layers: [WaveNetLayerPlan<T>]
    let head: WaveNetConvolution<T>
    let headBias: Int?
    /// Frames of the array's residual output and head.
    var endFrames: Int { layers.last!.outputFrames }

    func pack(_ p: UnsafePointer<T>) {
        rechannel.pack(p)
        for l in layers { l.conv.pack(p); l.pointwise.pack(p) }
        head.pack(p)
    }
}

/// Everything one batch item keeps between forward and backward, and its scratch.
final class WaveNetItem<T: TrainingScalar> {
    let input: Storage<T>
    let knobs: Storage<T>
    /// Per array, each layer's input, then the array's residual output.
    let residual: [[Storage<T>]]
    let preActivation: [[Storage<T>]]
    let activated: [[Storage<T>]]
    /// Per array, the head accumulator (its newest frames) and the head rechannel's output.
    let head: [Storage<T>]
    let headOutput: [Storage<T>]
    let output: Storage<T>
    let outputGradient: Storage<T>
    let gradient: Storage<T>
    let headOutputGradient: [Storage<T>]
    let headGradient: Storage<T>
    let gradientA: Storage<T>
    let gradientB: Storage<T>
    let activatedGradient: Storage<T>
    let preActivationGradient: Storage<T>
    let weightScratch: Storage<T>
    let conditionShift: Storage<T>

    init(arrays: [WaveNetArrayPlan<T>], inputLength: Int, knobs knobCount: Int, parameterCount: Int) {
        input = Storage(inputLength)
        knobs = Storage(knobCount)
        residual = arrays.map { a in
            a.layers.map { Storage($0.inputFrames * a.config.channels) } + [Storage(a.endFrames * a.config.channels)]
        }
        preActivation = arrays.map { a in a.layers.map { Storage($0.outputFrames * a.config.convChannels) } }
        activated = arrays.map { a in a.layers.map { Storage($0.outputFrames * a.config.channels) } }
        head = arrays.map { Storage($0.endFrames * $0.config.channels) }
        headOutput = arrays.map { Storage($0.endFrames * $0.config.headSize) }
        output = Storage(arrays.last!.endFrames)
        outputGradient = Storage(arrays.last!.endFrames)
        gradient = Storage(parameterCount)
        headOutputGradient = arrays.map { Storage($0.endFrames * $0.config.headSize) }
        headGradient = Storage(arrays.map { $0.endFrames * $0.config.channels }.max()!)
        let widest = arrays.map { $0.inputFrames * max($0.config.channels, $0.config.inputSize) }.max()!
        gradientA = Storage(widest)
        gradientB = Storage(widest)
        activatedGradient = Storage(widest)
        preActivationGradient = Storage(arrays.map { $0.inputFrames * $0.config.convChannels }.max()!)
        weightScratch = Storage(arrays.flatMap { a in
            [a.rechannel.shape.weightCount, a.head.shape.weightCount, 2 * a.config.convChannels] + a.layers.map { $0.conv.shape.weightCount }
        }.max()!)
        conditionShift = Storage(arrays.map(\.config.convChannels).max()!)
    }
}
