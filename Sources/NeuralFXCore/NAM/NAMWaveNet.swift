/// The running NAM WaveNet.
///
/// Channel counts are padded to a vector width (4, 8, or a multiple of 16) with
/// zero weights, so every convolution is a `NAMDenseKernel` pass over whole
/// vectors; padded lanes stay zero in the residual stream and are never read
/// as inputs. Each layer keeps its input history in a `CausalConv1d` ring
/// (used for storage; the arithmetic is the kernel's). Work runs layer by
/// layer over the whole block, so each weight vector serves eight frames.
///
/// Silence state: NeuralAmpModelerCore prewarms a WaveNet by running zeros
/// through it for its receptive field, and the Python reference pads the
/// input with that many zeros; both leave every layer's history at the
/// constant it holds after silence. `prepare` computes those constants once
/// (by the same zero run) and `reset` copies them into the rings, so output
/// after `reset` equals the reference's zero-padded output.
public final class NAMWaveNet: StreamingNetwork {
    // Layers and arrays hold plain pointers into `storage` (and unowned
    // history rings kept by `histories`), so walking them in `process` does
    // no reference counting.
    struct Layer {
        unowned(unsafe) let history: CausalConv1d
        let dilation: Int
        /// `[tap][in][convWidth]`, primary lanes then (gated) gate lanes.
        let conv: UnsafeMutablePointer<Float>
        let convBias: UnsafeMutablePointer<Float>
        let mix: UnsafeMutablePointer<Float>
        /// `[in][width]` and bias.
        let pointwise: UnsafeMutablePointer<Float>
        let pointwiseBias: UnsafeMutablePointer<Float>
        let steady: UnsafeMutablePointer<Float>
    }

    struct LayerArray {
        let channels: Int
        let inputSize: Int
        let kernelSize: Int
        let gated: Bool
        let activation: NAMActivation
        let width: Int
        let lanes: Int
        let inputStride: Int
        /// `[in][width]`.
        let rechannel: UnsafeMutablePointer<Float>
        let layers: UnsafeBufferPointer<Layer>
        let headWidth: Int
        let headLanes: Int
        /// `[channels][headWidth]` and bias (zero when the file has none).
        let headRechannel: UnsafeMutablePointer<Float>
        let headRechannelBias: UnsafeMutablePointer<Float>
        var convWidth: Int { gated ? 2 * width : width }
    }

    public let blueprint: NAMWaveNetBlueprint
    let arrays: UnsafeMutableBufferPointer<LayerArray>
    private let storage: [FloatBuffer]
    private let histories: [CausalConv1d]
    private let layerLists: [UnsafeMutableBufferPointer<Layer>]
    let headScale: Float
    /// The optional post-head: (weight `[out][in]`, bias) per block.
    let head: [(weight: [Float], bias: [Float], cin: Int, cout: Int)]
    let precision: NAMActivationPrecision

    private var maxBlock = 0
    private var residualA = FloatBuffer(count: 0), residualB = FloatBuffer(count: 0)
    private var mid = FloatBuffer(count: 0), activated = FloatBuffer(count: 0)
    private var headA = FloatBuffer(count: 0), headB = FloatBuffer(count: 0)
    private let headScratch: FloatBuffer

    static func paddedWidth(_ channels: Int) -> Int {
        channels <= 4 ? 4 : channels <= 8 ? 8 : (channels + 15) / 16 * 16
    }

    public init(_ blueprint: NAMWaveNetBlueprint) {
        self.blueprint = blueprint
        precision = blueprint.precision
        var cursor = 0
        let w = blueprint.weights
        func take(_ n: Int) -> ArraySlice<Float> {
            defer { cursor += n }
            return w[cursor..<(cursor + n)]
        }
        var arrays: [LayerArray] = []
        var storage: [FloatBuffer] = [], histories: [CausalConv1d] = [], layerLists: [UnsafeMutableBufferPointer<Layer>] = []
        func keep(_ b: FloatBuffer) -> UnsafeMutablePointer<Float> {
            storage.append(b)
            return b.pointer
        }
        var previousWidth = 1
        for (index, c) in blueprint.config.layerArrays.enumerated() {
            let width = Self.paddedWidth(c.channels)
            let convWidth = c.gated ? 2 * width : width
            // Rechannel: PyTorch [channels][input] -> [input][width].
            let rechannel = FloatBuffer(count: c.inputSize * width)
            let re = take(c.channels * c.inputSize)
            for o in 0..<c.channels { for i in 0..<c.inputSize { rechannel[i * width + o] = re[re.startIndex + o * c.inputSize + i] } }
            var layers: [Layer] = []
            for d in c.dilations {
                let k = c.kernelSize
                // Padded convolution lane of conv output channel o.
                func lane(_ o: Int) -> Int { o < c.channels ? o : width + (o - c.channels) }
                let convW = take(c.convChannels * c.channels * k)
                let conv = FloatBuffer(count: k * c.channels * convWidth)
                var torchLayout = [Float](repeating: 0, count: convWidth * width * k)
                for o in 0..<c.convChannels {
                    for i in 0..<c.channels {
                        for j in 0..<k {
                            let v = convW[convW.startIndex + (o * c.channels + i) * k + j]
                            conv[(j * c.channels + i) * convWidth + lane(o)] = v
                            torchLayout[(lane(o) * width + i) * k + j] = v
                        }
                    }
                }
                let convBias = FloatBuffer(count: convWidth)
                for (o, v) in take(c.convChannels).enumerated() { convBias[lane(o)] = v }
                let mix = FloatBuffer(count: convWidth)
                for (o, v) in take(c.convChannels).enumerated() { mix[lane(o)] = v }
                let pointwise = FloatBuffer(count: c.channels * width)
                let pw = take(c.channels * c.channels)
                for o in 0..<c.channels { for i in 0..<c.channels { pointwise[i * width + o] = pw[pw.startIndex + o * c.channels + i] } }
                let pointwiseBias = FloatBuffer(count: width)
                for (o, v) in take(c.channels).enumerated() { pointwiseBias[o] = v }
                let history = CausalConv1d(inChannels: width, outChannels: convWidth, kernelSize: k, dilation: d,
                                           weights: torchLayout)
                histories.append(history)
                layers.append(Layer(history: history, dilation: d, conv: keep(conv), convBias: keep(convBias), mix: keep(mix),
                                    pointwise: keep(pointwise), pointwiseBias: keep(pointwiseBias),
                                    steady: keep(FloatBuffer(count: width))))
            }
            let headWidth = Self.paddedWidth(c.headSize)
            let headRechannel = FloatBuffer(count: c.channels * headWidth)
            let hw = take(c.headSize * c.channels)
            for o in 0..<c.headSize { for i in 0..<c.channels { headRechannel[i * headWidth + o] = hw[hw.startIndex + o * c.channels + i] } }
            let headBias = FloatBuffer(count: headWidth)
            if c.headBias { for (o, v) in take(c.headSize).enumerated() { headBias[o] = v } }
            let layerList = UnsafeMutableBufferPointer<Layer>.allocate(capacity: layers.count)
            _ = layerList.initialize(from: layers)
            layerLists.append(layerList)
            arrays.append(LayerArray(channels: c.channels, inputSize: c.inputSize, kernelSize: c.kernelSize,
                                     gated: c.gated, activation: c.activation, width: width, lanes: min(width, 16),
                                     inputStride: index == 0 ? 1 : previousWidth, rechannel: keep(rechannel),
                                     layers: UnsafeBufferPointer(layerList), headWidth: headWidth,
                                     headLanes: min(headWidth, 16), headRechannel: keep(headRechannel),
                                     headRechannelBias: keep(headBias)))
            previousWidth = width
        }
        self.arrays = .allocate(capacity: arrays.count)
        _ = self.arrays.initialize(from: arrays)
        self.storage = storage
        self.histories = histories
        self.layerLists = layerLists
        var head: [(weight: [Float], bias: [Float], cin: Int, cout: Int)] = []
        if let h = blueprint.config.head {
            for (cin, cout) in h.widths(inChannels: blueprint.config.layerArrays.last!.headSize) {
                head.append((Array(take(cin * cout)), Array(take(cout)), cin, cout))
            }
        }
        self.head = head
        headScale = w[cursor]
        precondition(cursor + 1 == w.count)
        let widest = max(blueprint.config.head?.channels ?? 1, blueprint.config.layerArrays.last!.headSize)
        headScratch = FloatBuffer(count: 2 * widest)
    }

    deinit {
        for list in layerLists { list.deallocate() }
        arrays.deallocate()
    }

    public var conditioningSize: Int { 0 }
    public var receptiveField: Int { blueprint.config.receptiveField }
    public var multiplyAddsPerSample: Int { blueprint.weights.count }
    public var stateBytes: Int {
        arrays.reduce(0) { $0 + $1.layers.reduce(0) { $0 + $1.history.stateBytes } }
            + [residualA, residualB, mid, activated, headA, headB].reduce(0) { $0 + $1.byteCount }
    }

    public func prepare(maxBlockSize: Int) {
        precondition(maxBlockSize > 0)
        maxBlock = maxBlockSize
        let width = arrays.map { max($0.width, $0.headWidth) }.max()!
        residualA = FloatBuffer(count: maxBlockSize * width)
        residualB = FloatBuffer(count: maxBlockSize * width)
        mid = FloatBuffer(count: maxBlockSize * 2 * width)
        activated = FloatBuffer(count: maxBlockSize * width)
        headA = FloatBuffer(count: maxBlockSize * width)
        headB = FloatBuffer(count: maxBlockSize * width)
        for a in arrays { for l in a.layers { l.history.prepare(maxBlockSize: maxBlockSize, extraHistory: 0) } }
        // Prewarm (off the audio thread): zeros for the receptive field, then
        // keep each layer's newest input as its silence constant.
        for a in arrays { for l in a.layers { l.history.reset() } }
        let zeros = FloatBuffer(count: maxBlockSize)
        let sink = FloatBuffer(count: maxBlockSize)
        var remaining = receptiveField
        while remaining > 0 {
            let n = min(remaining, maxBlockSize)
            process(zeros.pointer, sink.pointer, frameCount: n)
            remaining -= n
        }
        for a in arrays {
            for l in a.layers { l.steady.update(from: l.history.pastInput(frames: 1, delay: 0), count: a.width) }
        }
        reset()
    }

    public func setConditioning(_ values: UnsafePointer<Float>) {}

    public func reset() {
        guard maxBlock > 0 else { return }
        for a in arrays { for l in a.layers { l.history.reset(steadyInput: l.steady) } }
    }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        precondition(frameCount <= maxBlock, "block larger than prepared")
        guard frameCount > 0 else { return }
        var source = input
        var sourceStride = 1
        var headIn = headA.pointer, headOut = headB.pointer
        for (index, a) in arrays.enumerated() {
            let last = index == arrays.count - 1
            let residual: UnsafeMutablePointer<Float>
            switch a.lanes {
            case 4: residual = runArray(SIMD4<Float>.self, a, source, sourceStride, audio: input, headIn: headIn,
                                        headOut: headOut, first: index == 0, last: last, frames: frameCount)
            case 8: residual = runArray(SIMD8<Float>.self, a, source, sourceStride, audio: input, headIn: headIn,
                                        headOut: headOut, first: index == 0, last: last, frames: frameCount)
            default: residual = runArray(SIMD16<Float>.self, a, source, sourceStride, audio: input, headIn: headIn,
                                         headOut: headOut, first: index == 0, last: last, frames: frameCount)
            }
            source = UnsafePointer(residual)
            sourceStride = a.width
            swap(&headIn, &headOut)
        }
        // `headIn` now holds the last array's head output.
        let stride = arrays.last!.headWidth
        if head.isEmpty {
            for t in 0..<frameCount { output[t] = headScale * headIn[t * stride] }
        } else {
            for t in 0..<frameCount { output[t] = applyHead(headIn + t * stride) }
        }
    }

    /// One layer array over a block; returns the buffer holding its residual
    /// output. The residual stream alternates between `residualA` and
    /// `residualB` (starting in whichever does not hold `source`); the head
    /// accumulator lives in `headIn` and the head rechannel writes `headOut`
    /// (the next array's starting accumulator).
    @inline(__always)
    private func runArray<V: FloatLanes>(_ type: V.Type, _ a: LayerArray, _ source: UnsafePointer<Float>, _ sourceStride: Int,
                                         audio: UnsafePointer<Float>, headIn: UnsafeMutablePointer<Float>,
                                         headOut: UnsafeMutablePointer<Float>, first: Bool, last: Bool,
                                         frames: Int) -> UnsafeMutablePointer<Float> {
        let width = a.width, groups = width / V.scalarCount, convWidth = a.convWidth
        var x = residualA.pointer, next = residualB.pointer
        if source == UnsafePointer(x) { swap(&x, &next) }
        NAMDenseKernel.run(V.self, out: x, outStride: width, groups: groups, weights: a.rechannel, weightStride: width,
                           source: .init(pointer: source, inputs: a.inputSize, stride: sourceStride),
                           initial: .init(), frames: frames)
        if first { headIn.update(repeating: 0, count: frames * width) }
        let z = activated.pointer, m = mid.pointer
        for (n, l) in a.layers.enumerated() {
            l.history.push(UnsafePointer(x), frames: frames)
            let window = l.history.pastInput(frames: frames, delay: (a.kernelSize - 1) * l.dilation)
            NAMDenseKernel.run(V.self, out: m, outStride: convWidth, groups: convWidth / V.scalarCount,
                               weights: l.conv, weightStride: convWidth,
                               source: .init(pointer: window, inputs: a.channels, stride: width,
                                             taps: a.kernelSize, tapStride: l.dilation * width),
                               initial: .init(bias: l.convBias, mix: l.mix, mixInput: audio), frames: frames)
            activate(V.self, a, mid: m, into: z, head: headIn, frames: frames)
            // The last layer's residual output feeds nothing.
            if !(last && n == a.layers.count - 1) {
                NAMDenseKernel.run(V.self, out: next, outStride: width, groups: groups,
                                   weights: l.pointwise, weightStride: width,
                                   source: .init(pointer: z, inputs: a.channels, stride: width),
                                   initial: .init(bias: l.pointwiseBias, addend: x, addendStride: width),
                                   frames: frames)
            }
            swap(&x, &next)
        }
        switch a.headLanes {
        case 4: headRechannel(SIMD4<Float>.self, a, headIn, headOut, frames)
        case 8: headRechannel(SIMD8<Float>.self, a, headIn, headOut, frames)
        default: headRechannel(SIMD16<Float>.self, a, headIn, headOut, frames)
        }
        return x
    }

    @inline(__always)
    private func headRechannel<V: FloatLanes>(_ type: V.Type, _ a: LayerArray, _ headIn: UnsafeMutablePointer<Float>,
                                              _ headOut: UnsafeMutablePointer<Float>, _ frames: Int) {
        NAMDenseKernel.run(V.self, out: headOut, outStride: a.headWidth, groups: a.headWidth / V.scalarCount,
                           weights: a.headRechannel, weightStride: a.headWidth,
                           source: .init(pointer: headIn, inputs: a.channels, stride: a.width),
                           initial: .init(bias: a.headRechannelBias), frames: frames)
    }

    /// `z = act(mid)` (or the gated unit) and `head += z`.
    @inline(__always)
    private func activate<V: FloatLanes>(_ type: V.Type, _ a: LayerArray, mid: UnsafeMutablePointer<Float>,
                                         into z: UnsafeMutablePointer<Float>, head: UnsafeMutablePointer<Float>, frames: Int) {
        let width = a.width, convWidth = a.convWidth, lanes = V.scalarCount
        let act = a.activation, precision = self.precision
        for t in 0..<frames {
            let src = mid + t * convWidth, dst = z + t * width, h = head + t * width
            var o = 0
            while o < width {
                let v = a.gated ? act.gated(V.load(src + o), V.load(src + width + o), precision)
                                       : act.apply(V.load(src + o), precision)
                v.store(dst + o)
                V.add(V.load(h + o), v).store(h + o)
                o += lanes
            }
        }
    }

    /// The post-head on one frame: `headScale` times the head input, then per
    /// block activation and 1x1 convolution.
    private func applyHead(_ frame: UnsafePointer<Float>) -> Float {
        let a = headScratch.pointer, b = headScratch.pointer + headScratch.count / 2
        let cin0 = head[0].cin
        for i in 0..<cin0 { a[i] = headScale * frame[i] }
        var src = a, dst = b
        let act = blueprint.config.head!.activation
        for block in head {
            for o in 0..<block.cout {
                var acc = block.bias[o]
                for i in 0..<block.cin { acc += block.weight[o * block.cin + i] * act.apply(src[i]) }
                dst[o] = acc
            }
            swap(&src, &dst)
        }
        return src[0]
    }
}
