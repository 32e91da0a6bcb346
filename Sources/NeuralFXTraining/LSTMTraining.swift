import NeuralFXCore
import RealModule

/// Neural Amp Modeler's LSTM as it trains: a batch of chunks forward and the
/// exact gradient (backpropagation through time) of a loss back to every
/// weight, the weights being the flat list a .nam file stores, in its order:
/// per layer the gate matrix `[4H, in + H]` (PyTorch's input and hidden
/// weights side by side, row-major, gates in PyTorch's order input, forget,
/// cell, output), one bias `[4H]`, the initial hidden state `[H]` and the
/// initial cell state `[H]`; then the head's weight `[H]` and bias.
///
/// The initial states are what every chunk starts from, learned as NAM's
/// `_initial_hidden` and `_initial_cell` are; the file stores the state after
/// silence instead (`LSTMConfig.fileWeights`). Each item's input is
/// `burnIn + outputLength` samples; output `t` belongs to input sample
/// `burnIn + t`. Items run in parallel, each forward and backward on its own
/// buffers; per-item gradients are summed in item order, so results do not
/// depend on the thread count.
public final class LSTMTrainingNetwork<T: TrainingScalar> {
    public let config: LSTMConfig
    public let batchSize: Int
    public let outputLength: Int
    public let inputLength: Int
    public var threads: Int
    /// The weights, flat, exactly as a .nam file lists them (with the learned initial states).
    public var parameters: [T]
    /// Gradient of the last `backward`, same layout as `parameters`.
    public private(set) var gradient: [T]
    /// Zeros the engine runs from the file's state when it loads it (half a
    /// second, as NeuralAmpModelerCore); `Trainer` sets it from the sample rate.
    public var streamingPrewarm = 24000

    let hidden: Int
    /// Gate rows padded to a multiple of 16 (vectors of 8 in the matrix
    /// loops, 16 in the Float gate nonlinearities).
    let rows: Int
    let layers: [LSTMLayerPlan]
    let headOffset: Int
    /// Per layer, the gate matrix column by column (`[in + H][rows]`, padding
    /// rows zero), repacked from `parameters` at every forward.
    let packed: [Storage<T>]
    /// The gate nonlinearities as `offset + outScale * tanh(inScale * z)`:
    /// sigmoid for the input, forget and output gates, tanh for the cell's.
    let inScale: Storage<T>, outScale: Storage<T>, offset: Storage<T>
    let items: [LSTMItem<T>]

    public init(config: LSTMConfig, batchSize: Int, outputLength: Int, threads: Int = 2, weights: [T]) {
        precondition(config.problem == nil, config.problem ?? "")
        precondition(weights.count == config.weightCount && batchSize > 0 && outputLength > 0)
        self.config = config
        self.batchSize = batchSize
        self.outputLength = outputLength
        self.threads = threads
        parameters = weights
        gradient = [T](repeating: 0, count: weights.count)
        inputLength = config.burnIn + outputLength
        let h = config.hiddenSize
        hidden = h
        rows = (4 * h + 15) / 16 * 16
        var offset = 0, plans: [LSTMLayerPlan] = []
        for l in 0..<config.layers {
            let plan = LSTMLayerPlan(inputWidth: l == 0 ? 1 : h, hidden: h, offset: offset)
            plans.append(plan)
            offset = plan.end
        }
        layers = plans
        headOffset = offset
        precondition(offset + h + 1 == config.weightCount)
        packed = plans.map { Storage($0.columns * ((4 * h + 15) / 16 * 16)) }
        inScale = Storage(rows)
        outScale = Storage(rows)
        self.offset = Storage(rows)
        for r in 0..<rows {
            let cellGate = r >= 2 * h && r < 3 * h
            inScale.pointer[r] = cellGate ? 1 : 0.5
            outScale.pointer[r] = cellGate ? 1 : 0.5
            self.offset.pointer[r] = cellGate ? 0 : 0.5
        }
        let (rows, input) = (self.rows, config.burnIn + outputLength)
        items = (0..<batchSize).map { _ in
            LSTMItem(layers: config.layers, hidden: h, rows: rows, inputLength: input, outputLength: outputLength,
                     parameterCount: config.weightCount, widestColumns: plans.map(\.columns).max()!)
        }
    }

    // MARK: Item access

    /// The input chunk of item `b` (`inputLength` samples) to fill before `forward`.
    public func input(_ b: Int) -> UnsafeMutablePointer<T> { items[b].input.pointer }
    /// An LSTM takes no knobs: an empty buffer.
    public func knobs(_ b: Int) -> UnsafeMutablePointer<T> { items[b].knobs.pointer }
    /// The output of item `b` (`outputLength` samples, after the burn-in) after `forward`.
    public func output(_ b: Int) -> UnsafeMutablePointer<T> { items[b].output.pointer }
    /// Where the loss writes the gradient with respect to `output(b)` before `backward`.
    public func outputGradient(_ b: Int) -> UnsafeMutablePointer<T> { items[b].outputGradient.pointer }
    /// Layer `l`'s hidden and cell state after item `b`'s last sample.
    public func finalState(_ b: Int, layer l: Int) -> (hidden: UnsafePointer<T>, cell: UnsafePointer<T>) {
        (UnsafePointer(items[b].hidden[l].pointer + inputLength * hidden), UnsafePointer(items[b].cells[l].pointer + inputLength * hidden))
    }

    // MARK: Forward

    /// Runs the batch through the network.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward() {
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            pack(p)
            forEachItem(batchSize, threads: threads) { b in self.forwardItem(b, p) }
        }
    }

    private func pack(_ p: UnsafePointer<T>) {
        let g = 4 * hidden
        for (l, plan) in layers.enumerated() {
            let w = p + plan.offset, dst = packed[l].pointer, cols = plan.columns
            for c in 0..<cols { for r in 0..<g { dst[c * rows + r] = w[r * cols + c] } }
        }
    }

    private func forwardItem(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], h = hidden, n = inputLength, burnIn = config.burnIn
        for (l, plan) in layers.enumerated() {
            item.hidden[l].pointer.update(from: p + plan.initialHidden, count: h)
            item.cells[l].pointer.update(from: p + plan.initialCell, count: h)
        }
        let top = layers.count - 1, headWeight = p + headOffset, headBias = p[headOffset + h]
        for t in 0..<n {
            for (l, plan) in layers.enumerated() {
                let x = l == 0 ? UnsafePointer(item.input.pointer + t) : UnsafePointer(item.hidden[l - 1].pointer + (t + 1) * h)
                let g = item.gates[l].pointer + t * rows
                gatesForward(packed[l].pointer, bias: p + plan.bias, x: x, inputWidth: plan.inputWidth,
                             previous: item.hidden[l].pointer + t * h, into: g)
                activate(g)
                let cPrev = item.cells[l].pointer + t * h, c = cPrev + h
                let tc = item.tanhCell[l].pointer + t * h, hOut = item.hidden[l].pointer + (t + 1) * h
                for i in 0..<h { c[i] = g[h + i] * cPrev[i] + g[i] * g[2 * h + i] }
                tanh(c, count: h, into: tc, scratch: item.lanes.pointer)
                for i in 0..<h { hOut[i] = g[3 * h + i] * tc[i] }
            }
            guard t >= burnIn else { continue }
            let last = item.hidden[top].pointer + (t + 1) * h
            var y = headBias
            for i in 0..<h { y += headWeight[i] * last[i] }
            item.output.pointer[t - burnIn] = y
        }
    }

    /// `g = bias + W [x; previous]`, eight rows at a time down the columns.
    @inline(__always)
    private func gatesForward(_ w: UnsafePointer<T>, bias: UnsafePointer<T>, x: UnsafePointer<T>, inputWidth: Int,
                              previous: UnsafePointer<T>, into g: UnsafeMutablePointer<T>) {
        typealias V = SIMD8<T>
        let gateRows = 4 * hidden, h = hidden, rows = self.rows
        var r = 0
        while r < gateRows {
            var a = V(), w0 = w + r
            if r + 8 <= gateRows {
                a = ConvolutionKernels.load(bias + r)
            } else {
                for k in 0..<(gateRows - r) { a[k] = bias[r + k] }
            }
            for c in 0..<inputWidth {
                a = a.addingProduct(ConvolutionKernels.load(w0) as V, V(repeating: x[c]))
                w0 += rows
            }
            for c in 0..<h {
                a = a.addingProduct(ConvolutionKernels.load(w0) as V, V(repeating: previous[c]))
                w0 += rows
            }
            ConvolutionKernels.store(a, g + r)
            r += 8
        }
    }

    /// The gate nonlinearities in place over the padded rows; in Float the
    /// engine's `FastTanh` (what `NAMLSTM` plays with by default).
    @inline(__always)
    private func activate(_ g: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            typealias V = FastTanh.Lanes
            let gf = UnsafeMutableRawPointer(g).assumingMemoryBound(to: Float.self)
            let si = UnsafeRawPointer(inScale.pointer).assumingMemoryBound(to: Float.self)
            let so = UnsafeRawPointer(outScale.pointer).assumingMemoryBound(to: Float.self)
            let sb = UnsafeRawPointer(offset.pointer).assumingMemoryBound(to: Float.self)
            var r = 0
            while r < rows {
                let v = FastTanh.tanh(ConvolutionKernels.load(gf + r) * (ConvolutionKernels.load(si + r) as V))
                ConvolutionKernels.store((ConvolutionKernels.load(sb + r) as V).addingProduct(ConvolutionKernels.load(so + r), v), gf + r)
                r += 16
            }
        } else {
            let h = hidden
            for r in 0..<(4 * h) { g[r] = r >= 2 * h && r < 3 * h ? T.tanh(g[r]) : Activation.sigmoid(g[r]) }
        }
    }

    @inline(__always)
    private func tanh(_ x: UnsafePointer<T>, count: Int, into y: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            let s = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: Float.self)
            s.update(from: UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count: count)
            var i = 0
            while i < count {
                ConvolutionKernels.store(FastTanh.tanh(ConvolutionKernels.load(s + i)), s + i)
                i += 16
            }
            y.update(from: scratch, count: count)
        } else {
            for i in 0..<count { y[i] = T.tanh(x[i]) }
        }
    }

    // MARK: Backward

    /// The gradient of the loss whose output gradients the items hold, into `gradient`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward() {
        parameters.withUnsafeBufferPointer { pbuf in
            let p = pbuf.baseAddress!
            forEachItem(batchSize, threads: threads) { b in self.backwardItem(b, p) }
        }
        gradient.withUnsafeMutableBufferPointer { g in
            g.update(repeating: 0)
            for item in items {
                let src = item.gradient.pointer
                for i in 0..<g.count { g[i] += src[i] }
            }
        }
    }

    private func backwardItem(_ b: Int, _ p: UnsafePointer<T>) {
        let item = items[b], h = hidden, n = inputLength, burnIn = config.burnIn, rows = self.rows
        let top = layers.count - 1, headWeight = p + headOffset
        for l in layers.indices {
            item.packedGradient[l].zero()
            item.biasGradient[l].zero()
            item.hiddenCarry[l].zero()
            item.cellCarry[l].zero()
        }
        let grad = item.gradient.pointer
        grad.update(repeating: 0, count: item.gradient.count)
        let dz = item.gateGradient.pointer, dxh = item.inputGradient.pointer, above = item.fromAbove.pointer
        for t in stride(from: n - 1, through: 0, by: -1) {
            // The head: the loss reaches the top layer's hidden state after the burn-in.
            if t >= burnIn {
                let dy = item.outputGradient.pointer[t - burnIn], last = item.hidden[top].pointer + (t + 1) * h
                for i in 0..<h {
                    above[i] = headWeight[i] * dy
                    grad[headOffset + i] += dy * last[i]
                }
                grad[headOffset + h] += dy
            } else {
                above.update(repeating: 0, count: h)
            }
            for l in stride(from: top, through: 0, by: -1) {
                let plan = layers[l], g = UnsafePointer(item.gates[l].pointer + t * rows)
                let cPrev = item.cells[l].pointer + t * h, tc = item.tanhCell[l].pointer + t * h
                let dh = item.hiddenCarry[l].pointer, dc = item.cellCarry[l].pointer
                for i in 0..<h {
                    let dhi = dh[i] + above[i]
                    let (gi, gf, gg, go) = (g[i], g[h + i], g[2 * h + i], g[3 * h + i])
                    let dci = dc[i] + dhi * go * (1 - tc[i] * tc[i])
                    dz[i] = dci * gg * gi * (1 - gi)
                    dz[h + i] = dci * cPrev[i] * gf * (1 - gf)
                    dz[2 * h + i] = dci * gi * (1 - gg * gg)
                    dz[3 * h + i] = dhi * tc[i] * go * (1 - go)
                    dc[i] = dci * gf
                }
                let db = item.biasGradient[l].pointer
                for r in 0..<(4 * h) { db[r] += dz[r] }
                let x = l == 0 ? UnsafePointer(item.input.pointer + t) : UnsafePointer(item.hidden[l - 1].pointer + (t + 1) * h)
                gatesBackward(packed[l].pointer, gateGradient: dz, x: x, inputWidth: plan.inputWidth,
                              previous: item.hidden[l].pointer + t * h, weightGradient: item.packedGradient[l].pointer,
                              inputGradient: dxh, needsInput: l > 0)
                // The input part goes to the layer below at this step, the hidden part back a step.
                if l > 0 { above.update(from: dxh, count: h) }
                dh.update(from: dxh + plan.inputWidth, count: h)
            }
            // NAM's truncation: the state entering each segment after the burn-in is detached.
            if let k = config.truncation, t > burnIn, (t - burnIn) % k == 0 {
                for l in layers.indices {
                    item.hiddenCarry[l].zero()
                    item.cellCarry[l].zero()
                }
            }
        }
        for (l, plan) in layers.enumerated() {
            let dw = item.packedGradient[l].pointer, cols = plan.columns, w = grad + plan.offset
            for r in 0..<(4 * h) { for c in 0..<cols { w[r * cols + c] += dw[c * rows + r] } }
            let db = item.biasGradient[l].pointer
            for r in 0..<(4 * h) { grad[plan.bias + r] += db[r] }
            for i in 0..<h {
                grad[plan.initialHidden + i] += item.hiddenCarry[l].pointer[i]
                grad[plan.initialCell + i] += item.cellCarry[l].pointer[i]
            }
        }
    }

    /// `dW += dz [x; previous]^T` and `dxh = W^T dz` (the input columns only
    /// when `needsInput`), eight rows at a time down each column.
    @inline(__always)
    private func gatesBackward(_ w: UnsafePointer<T>, gateGradient dz: UnsafePointer<T>, x: UnsafePointer<T>, inputWidth: Int,
                               previous: UnsafePointer<T>, weightGradient dw: UnsafeMutablePointer<T>,
                               inputGradient dxh: UnsafeMutablePointer<T>, needsInput: Bool) {
        typealias V = SIMD8<T>
        let rows = self.rows, chunks = (4 * hidden + 7) / 8
        for c in 0..<(inputWidth + hidden) {
            let v = c < inputWidth ? x[c] : previous[c - inputWidth]
            let wc = w + c * rows, dwc = dw + c * rows
            var sum = V()
            for k in 0..<chunks {
                let d: V = ConvolutionKernels.load(dz + 8 * k)
                ConvolutionKernels.store((ConvolutionKernels.load(dwc + 8 * k) as V).addingProduct(d, V(repeating: v)), dwc + 8 * k)
                sum = sum.addingProduct(ConvolutionKernels.load(wc + 8 * k), d)
            }
            if needsInput || c >= inputWidth { dxh[c] = sum.sum() }
        }
    }
}

/// Where one layer's weights lie in the flat list.
struct LSTMLayerPlan {
    let inputWidth: Int
    let columns: Int
    let offset: Int
    let bias: Int
    let initialHidden: Int
    let initialCell: Int
    let end: Int

    init(inputWidth: Int, hidden h: Int, offset: Int) {
        self.inputWidth = inputWidth
        columns = inputWidth + h
        self.offset = offset
        bias = offset + 4 * h * columns
        initialHidden = bias + 4 * h
        initialCell = initialHidden + h
        end = initialCell + h
    }
}

/// Everything one batch item keeps between forward and backward, and its scratch.
final class LSTMItem<T: TrainingScalar> {
    let input: Storage<T>
    let knobs: Storage<T>
    let output: Storage<T>
    let outputGradient: Storage<T>
    /// Per layer and step: the activated gates (padded rows), the cell state
    /// (from the initial one on), its tanh, the hidden state (from the initial one on).
    let gates: [Storage<T>]
    let cells: [Storage<T>]
    let tanhCell: [Storage<T>]
    let hidden: [Storage<T>]
    let gradient: Storage<T>
    /// Per layer: the gate matrix's gradient packed as the weights are, the
    /// bias's, and the state gradients carried back a step.
    let packedGradient: [Storage<T>]
    let biasGradient: [Storage<T>]
    let hiddenCarry: [Storage<T>]
    let cellCarry: [Storage<T>]
    let gateGradient: Storage<T>
    let inputGradient: Storage<T>
    let fromAbove: Storage<T>
    /// The hidden size padded to 16 for the vector tanh.
    let lanes: Storage<T>

    init(layers: Int, hidden h: Int, rows: Int, inputLength n: Int, outputLength: Int, parameterCount: Int, widestColumns: Int) {
        input = Storage(n)
        knobs = Storage(0)
        output = Storage(outputLength)
        outputGradient = Storage(outputLength)
        gates = (0..<layers).map { _ in Storage(n * rows) }
        cells = (0..<layers).map { _ in Storage((n + 1) * h) }
        tanhCell = (0..<layers).map { _ in Storage(n * h) }
        hidden = (0..<layers).map { _ in Storage((n + 1) * h) }
        gradient = Storage(parameterCount)
        packedGradient = (0..<layers).map { l in Storage((l == 0 ? 1 + h : 2 * h) * rows) }
        biasGradient = (0..<layers).map { _ in Storage(rows) }
        hiddenCarry = (0..<layers).map { _ in Storage(h) }
        cellCarry = (0..<layers).map { _ in Storage(h) }
        gateGradient = Storage(rows)
        inputGradient = Storage(widestColumns)
        fromAbove = Storage(h)
        lanes = Storage((h + 15) / 16 * 16)
    }
}
