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
    /// Gate rows padded to a multiple of 16 (the vector width of every loop over gates).
    let rows: Int
    let layers: [LSTMLayerPlan]
    let headOffset: Int
    /// Per layer, repacked from `parameters` at every forward: the gate
    /// matrix column by column (`[in + H][rows]`, padding rows zero) for the
    /// forward pass, row by row (`[4H][paddedColumns]`) for the backward,
    /// and the bias (`[rows]`).
    let packed: [Storage<T>]
    let transposed: [Storage<T>]
    let packedBias: [Storage<T>]
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
        let rows = self.rows
        packed = plans.map { Storage($0.columns * rows) }
        transposed = plans.map { Storage(4 * h * $0.paddedColumns) }
        packedBias = plans.map { _ in Storage(rows) }
        inScale = Storage(rows)
        outScale = Storage(rows)
        self.offset = Storage(rows)
        for r in 0..<rows {
            let cellGate = r >= 2 * h && r < 3 * h
            inScale.pointer[r] = cellGate ? 1 : 0.5
            outScale.pointer[r] = cellGate ? 1 : 0.5
            self.offset.pointer[r] = cellGate ? 0 : 0.5
        }
        let input = config.burnIn + outputLength
        items = (0..<batchSize).map { _ in
            LSTMItem(layers: config.layers, hidden: h, rows: rows, inputLength: input, outputLength: outputLength,
                     parameterCount: config.weightCount, widestColumns: plans.map(\.paddedColumns).max()!)
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
            let rowMajor = transposed[l].pointer, stride = plan.paddedColumns
            for c in 0..<cols { for r in 0..<g { dst[c * rows + r] = w[r * cols + c] } }
            for r in 0..<g { for c in 0..<cols { rowMajor[r * stride + c] = w[r * cols + c] } }
            packedBias[l].pointer.update(from: p + plan.bias, count: g)
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
                let g = item.gates[l].pointer + t * rows, xh = item.concatenated.pointer
                if l == 0 { xh[0] = item.input.pointer[t] } else { xh.update(from: item.hidden[l - 1].pointer + (t + 1) * h, count: h) }
                (xh + plan.inputWidth).update(from: item.hidden[l].pointer + t * h, count: h)
                gatesForward(packed[l].pointer, bias: packedBias[l].pointer, xh: xh, columns: plan.columns, into: g)
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

    /// `g = bias + W xh`, over the padded rows 32 at a time: two vectors of
    /// rows, even and odd columns in separate accumulators, so four
    /// multiply-add chains run side by side.
    @inline(__always)
    private func gatesForward(_ w: UnsafePointer<T>, bias: UnsafePointer<T>, xh: UnsafePointer<T>, columns: Int,
                              into g: UnsafeMutablePointer<T>) {
        typealias V = SIMD16<T>
        let rows = self.rows
        var r = 0
        while r < rows {
            let pair = r + 16 < rows
            var a0: V = ConvolutionKernels.load(bias + r), a1 = pair ? ConvolutionKernels.load(bias + r + 16) : V()
            var b0 = V(), b1 = V()
            var c = 0, w0 = w + r
            while c + 1 < columns {
                let x0 = V(repeating: xh[c]), x1 = V(repeating: xh[c + 1])
                a0 = a0.addingProduct(ConvolutionKernels.load(w0), x0)
                b0 = b0.addingProduct(ConvolutionKernels.load(w0 + rows), x1)
                if pair {
                    a1 = a1.addingProduct(ConvolutionKernels.load(w0 + 16), x0)
                    b1 = b1.addingProduct(ConvolutionKernels.load(w0 + rows + 16), x1)
                }
                c += 2
                w0 += 2 * rows
            }
            if c < columns {
                a0 = a0.addingProduct(ConvolutionKernels.load(w0), V(repeating: xh[c]))
                if pair { a1 = a1.addingProduct(ConvolutionKernels.load(w0 + 16), V(repeating: xh[c])) }
            }
            ConvolutionKernels.store(a0 + b0, g + r)
            if pair { ConvolutionKernels.store(a1 + b1, g + r + 16) }
            r += pair ? 32 : 16
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
            item.inputGradient[l].zero()
            item.cellCarry[l].zero()
        }
        let grad = item.gradient.pointer
        grad.update(repeating: 0, count: item.gradient.count)
        let head = item.fromHead.pointer
        for t in stride(from: n - 1, through: 0, by: -1) {
            // The head: the loss reaches the top layer's hidden state after the burn-in.
            if t >= burnIn {
                let dy = item.outputGradient.pointer[t - burnIn], last = item.hidden[top].pointer + (t + 1) * h
                for i in 0..<h {
                    head[i] = headWeight[i] * dy
                    grad[headOffset + i] += dy * last[i]
                }
                grad[headOffset + h] += dy
            } else {
                head.update(repeating: 0, count: h)
            }
            for l in stride(from: top, through: 0, by: -1) {
                // The gate gradient replaces the gates it comes from (read no
                // more), for the weight gradient after the loop.
                let plan = layers[l], g = item.gates[l].pointer + t * rows, dz = g
                let cPrev = item.cells[l].pointer + t * h, tc = item.tanhCell[l].pointer + t * h
                // This layer's input gradient of the step after this one holds
                // the hidden state's gradient carried back; the layer above's
                // (or the head's) of this step, the gradient from above.
                let dxh = item.inputGradient[l].pointer, dh = UnsafePointer(dxh + plan.inputWidth)
                let above = l == top ? UnsafePointer(head) : UnsafePointer(item.inputGradient[l + 1].pointer)
                let dc = item.cellCarry[l].pointer
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
                inputGradient(transposed[l].pointer, gateGradient: dz, columns: plan.paddedColumns, into: dxh)
            }
            // NAM's truncation: the state entering each segment after the burn-in is detached.
            if let k = config.truncation, t > burnIn, (t - burnIn) % k == 0 {
                for (l, plan) in layers.enumerated() {
                    (item.inputGradient[l].pointer + plan.inputWidth).update(repeating: 0, count: h)
                    item.cellCarry[l].zero()
                }
            }
        }
        for (l, plan) in layers.enumerated() {
            weightGradient(item, layer: l)
            let dw = item.packedGradient[l].pointer, cols = plan.columns, w = grad + plan.offset
            for r in 0..<(4 * h) { for c in 0..<cols { w[r * cols + c] += dw[c * rows + r] } }
            let db = item.biasGradient[l].pointer
            for r in 0..<(4 * h) { grad[plan.bias + r] += db[r] }
            for i in 0..<h {
                grad[plan.initialHidden + i] += item.inputGradient[l].pointer[plan.inputWidth + i]
                grad[plan.initialCell + i] += item.cellCarry[l].pointer[i]
            }
        }
    }

    /// `dxh = W^T dz` from the row-major copy, over the padded columns 32
    /// at a time: two vectors of columns, even and odd gate rows in
    /// separate accumulators.
    @inline(__always)
    private func inputGradient(_ wt: UnsafePointer<T>, gateGradient dz: UnsafePointer<T>, columns: Int,
                               into dxh: UnsafeMutablePointer<T>) {
        typealias V = SIMD16<T>
        let gateRows = 4 * hidden
        var c = 0
        while c < columns {
            let pair = c + 16 < columns
            var a0 = V(), a1 = V(), b0 = V(), b1 = V()
            var r = 0, w0 = wt + c
            while r + 1 < gateRows {
                let d0 = V(repeating: dz[r]), d1 = V(repeating: dz[r + 1])
                a0 = a0.addingProduct(ConvolutionKernels.load(w0), d0)
                b0 = b0.addingProduct(ConvolutionKernels.load(w0 + columns), d1)
                if pair {
                    a1 = a1.addingProduct(ConvolutionKernels.load(w0 + 16), d0)
                    b1 = b1.addingProduct(ConvolutionKernels.load(w0 + columns + 16), d1)
                }
                r += 2
                w0 += 2 * columns
            }
            if r < gateRows {
                a0 = a0.addingProduct(ConvolutionKernels.load(w0), V(repeating: dz[r]))
                if pair { a1 = a1.addingProduct(ConvolutionKernels.load(w0 + 16), V(repeating: dz[r])) }
            }
            ConvolutionKernels.store(a0 + b0, dxh + c)
            if pair { ConvolutionKernels.store(a1 + b1, dxh + c + 16) }
            c += pair ? 32 : 16
        }
    }

    /// Layer `l`'s gate matrix and bias gradients over the whole chunk from
    /// the gate gradients the backward loop left: `dW = sum_t dz_t [x_t; h_t-1]^T`,
    /// in tiles of steps that stay in cache, four columns by two vectors of
    /// rows in registers at a time.
    private func weightGradient(_ item: LSTMItem<T>, layer l: Int) {
        typealias V = SIMD16<T>
        let plan = layers[l], h = hidden, rows = self.rows, n = inputLength
        let cols = plan.columns, stride = plan.paddedColumns
        let dw = item.packedGradient[l].pointer, db = item.biasGradient[l].pointer, dz = UnsafePointer(item.gates[l].pointer)
        let tile = LSTMItem<T>.tile, xh = item.columnTile.pointer
        var t0 = 0
        while t0 < n {
            let steps = min(tile, n - t0)
            // The matrix's inputs at each step of the tile, padding columns zero.
            for s in 0..<steps {
                let row = xh + s * stride, t = t0 + s
                if l == 0 { row[0] = item.input.pointer[t] } else { row.update(from: item.hidden[l - 1].pointer + (t + 1) * h, count: h) }
                (row + plan.inputWidth).update(from: item.hidden[l].pointer + t * h, count: h)
            }
            for s in 0..<steps {
                let d = dz + (t0 + s) * rows
                var r = 0
                while r < rows {
                    ConvolutionKernels.store((ConvolutionKernels.load(db + r) as V) + ConvolutionKernels.load(d + r), db + r)
                    r += 16
                }
            }
            var c = 0
            while c < cols {
                var r = 0
                while r < rows {
                    let pair = r + 16 < rows
                    let w0 = dw + c * rows + r, w1 = w0 + rows, w2 = w1 + rows, w3 = w2 + rows
                    var a0: V = ConvolutionKernels.load(w0), a1: V = ConvolutionKernels.load(w1)
                    var a2: V = ConvolutionKernels.load(w2), a3: V = ConvolutionKernels.load(w3)
                    var e0 = V(), e1 = V(), e2 = V(), e3 = V()
                    if pair {
                        (e0, e1) = (ConvolutionKernels.load(w0 + 16), ConvolutionKernels.load(w1 + 16))
                        (e2, e3) = (ConvolutionKernels.load(w2 + 16), ConvolutionKernels.load(w3 + 16))
                    }
                    for s in 0..<steps {
                        let d = dz + (t0 + s) * rows + r, x = xh + s * stride + c
                        let d0: V = ConvolutionKernels.load(d)
                        let x0 = V(repeating: x[0]), x1 = V(repeating: x[1]), x2 = V(repeating: x[2]), x3 = V(repeating: x[3])
                        a0 = a0.addingProduct(d0, x0)
                        a1 = a1.addingProduct(d0, x1)
                        a2 = a2.addingProduct(d0, x2)
                        a3 = a3.addingProduct(d0, x3)
                        if pair {
                            let d1: V = ConvolutionKernels.load(d + 16)
                            e0 = e0.addingProduct(d1, x0)
                            e1 = e1.addingProduct(d1, x1)
                            e2 = e2.addingProduct(d1, x2)
                            e3 = e3.addingProduct(d1, x3)
                        }
                    }
                    ConvolutionKernels.store(a0, w0)
                    ConvolutionKernels.store(a1, w1)
                    ConvolutionKernels.store(a2, w2)
                    ConvolutionKernels.store(a3, w3)
                    if pair {
                        ConvolutionKernels.store(e0, w0 + 16)
                        ConvolutionKernels.store(e1, w1 + 16)
                        ConvolutionKernels.store(e2, w2 + 16)
                        ConvolutionKernels.store(e3, w3 + 16)
                    }
                    r += pair ? 32 : 16
                }
                c += 4
            }
            t0 += tile
        }
    }
}

/// Where one layer's weights lie in the flat list.
struct LSTMLayerPlan {
    let inputWidth: Int
    let columns: Int
    /// Columns padded to a multiple of 16: rows of the row-major copy and of
    /// the weight gradient's input tiles (the gradient's columns beyond
    /// `columns` come out zero).
    let paddedColumns: Int
    let offset: Int
    let bias: Int
    let initialHidden: Int
    let initialCell: Int
    let end: Int

    init(inputWidth: Int, hidden h: Int, offset: Int) {
        self.inputWidth = inputWidth
        columns = inputWidth + h
        paddedColumns = (columns + 15) / 16 * 16
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
    /// bias's, the gradient of the matrix input `[x; h]` at the latest step
    /// (its `h` part is the hidden state's gradient carried back a step, its
    /// `x` part the layer below's from above), and the cell state's carried back.
    let packedGradient: [Storage<T>]
    let biasGradient: [Storage<T>]
    let inputGradient: [Storage<T>]
    let cellCarry: [Storage<T>]
    /// The head's gradient with respect to the top layer's hidden state.
    let fromHead: Storage<T>
    /// One step's matrix input `[x; h]` (forward), and a tile of them (weight gradient).
    let concatenated: Storage<T>
    let columnTile: Storage<T>
    /// Steps per tile of the weight gradient.
    static var tile: Int { 64 }
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
        packedGradient = (0..<layers).map { _ in Storage(widestColumns * rows) }
        biasGradient = (0..<layers).map { _ in Storage(rows) }
        inputGradient = (0..<layers).map { _ in Storage(widestColumns) }
        cellCarry = (0..<layers).map { _ in Storage(h) }
        fromHead = Storage(h)
        concatenated = Storage(widestColumns)
        columnTile = Storage(Self.tile * widestColumns)
        lanes = Storage((h + 15) / 16 * 16)
    }
}
