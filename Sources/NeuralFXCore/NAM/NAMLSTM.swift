/// Neural Amp Modeler's LSTM: `layers` stacked PyTorch LSTM cells (gate
/// order input, forget, cell, output) and a linear head from the last hidden
/// state to the output sample.
///
/// Flat weights per layer, as NAM stores them: the matrix `[4H, in + H]`
/// (input and hidden columns side by side, row-major), one bias `[4H]` (the
/// sum of PyTorch's two), the initial hidden state `[H]` and the initial cell
/// state `[H]`; then the head's weight `[H]` and bias.
public struct NAMLSTMBlueprint: NetworkBlueprint, Equatable {
    public var layers: Int
    public var inputSize: Int
    public var hiddenSize: Int
    public var weights: [Float]
    /// Zeros run from the stored state to reach the silence state.
    /// NeuralAmpModelerCore prewarms an LSTM with half a second.
    public var prewarmFrames: Int
    public var precision: NAMActivationPrecision

    public init(layers: Int, inputSize: Int, hiddenSize: Int, weights: [Float], prewarmFrames: Int,
                precision: NAMActivationPrecision = .fast) {
        precondition(weights.count == Self.weightCount(layers: layers, inputSize: inputSize, hiddenSize: hiddenSize))
        self.layers = layers
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.weights = weights
        self.prewarmFrames = prewarmFrames
        self.precision = precision
    }

    public func with(precision: NAMActivationPrecision) -> NAMLSTMBlueprint {
        var copy = self
        copy.precision = precision
        return copy
    }

    public static func weightCount(layers: Int, inputSize: Int, hiddenSize: Int) -> Int {
        let h = hiddenSize
        var n = 0
        for l in 0..<layers { n += 4 * h * ((l == 0 ? inputSize : h) + h) + 4 * h + 2 * h }
        return n + h + 1
    }

    public var architectureName: String { "nam-lstm" }
    public var conditioningSize: Int { 0 }
    public func makeNetwork() -> any StreamingNetwork { NAMLSTM(self) }
}

/// The running LSTM, one sample at a time. With `.fast` precision the gate
/// nonlinearities are `FastTanh` over 16 gates at once (sigmoid as
/// `(1 + tanh(x / 2)) / 2`); with `.exact`, libm per gate.
///
/// Silence state: the file stores each layer's state after one second of
/// silence (the trainer computes it at export), the Python reference starts
/// from exactly that, and NeuralAmpModelerCore then prewarms with a further
/// `prewarmFrames` zeros. The network computes the prewarmed state once at
/// construction; `reset` copies it back.
public final class NAMLSTM: StreamingNetwork {
    public let blueprint: NAMLSTMBlueprint
    let hidden: Int
    /// Per layer: columns `[in + H][4H]`, bias `[4H]`.
    let columns: [FloatBuffer]
    let bias: [FloatBuffer]
    let inputWidths: [Int]
    let headWeight: FloatBuffer
    let headBias: Float
    /// Per layer, `[x (in) | h (H)]` and the cell state; and their silence values.
    let xh: [FloatBuffer]
    let cell: [FloatBuffer]
    let silentXH: [FloatBuffer]
    let silentCell: [FloatBuffer]
    let gates: FloatBuffer
    /// Fast path: gate `r` becomes `offset + outScale * tanh(inScale * x)`
    /// (sigmoid for i, f, o; tanh for g), 16 at a time; and a padded copy of
    /// the cell state for its tanh.
    let inScale: FloatBuffer, outScale: FloatBuffer, offset: FloatBuffer
    let cellScratch: FloatBuffer
    let fast: Bool
    private var maxBlock = 0

    public init(_ b: NAMLSTMBlueprint) {
        blueprint = b
        let h = b.hiddenSize
        hidden = h
        var cursor = 0
        var columns: [FloatBuffer] = [], bias: [FloatBuffer] = [], widths: [Int] = []
        var xh: [FloatBuffer] = [], cell: [FloatBuffer] = []
        for l in 0..<b.layers {
            let input = l == 0 ? b.inputSize : h
            let cols = input + h
            let packed = FloatBuffer(count: cols * 4 * h)
            for r in 0..<(4 * h) { for c in 0..<cols { packed[c * 4 * h + r] = b.weights[cursor + r * cols + c] } }
            cursor += 4 * h * cols
            bias.append(FloatBuffer(Array(b.weights[cursor..<(cursor + 4 * h)])))
            cursor += 4 * h
            let state = FloatBuffer(count: cols)
            for i in 0..<h { state[input + i] = b.weights[cursor + i] }
            cursor += h
            cell.append(FloatBuffer(Array(b.weights[cursor..<(cursor + h)])))
            cursor += h
            columns.append(packed)
            widths.append(input)
            xh.append(state)
        }
        headWeight = FloatBuffer(Array(b.weights[cursor..<(cursor + h)]))
        headBias = b.weights[cursor + h]
        self.columns = columns
        self.bias = bias
        inputWidths = widths
        self.xh = xh
        self.cell = cell
        let paddedGates = (4 * h + 15) / 16 * 16
        gates = FloatBuffer(count: paddedGates)
        inScale = FloatBuffer(count: paddedGates, value: 0.5)
        outScale = FloatBuffer(count: paddedGates, value: 0.5)
        offset = FloatBuffer(count: paddedGates, value: 0.5)
        for r in (2 * h)..<(3 * h) { inScale[r] = 1; outScale[r] = 1; offset[r] = 0 }
        cellScratch = FloatBuffer(count: (h + 15) / 16 * 16)
        fast = b.precision == .fast
        silentXH = xh.map { FloatBuffer(count: $0.count) }
        silentCell = cell.map { FloatBuffer(count: $0.count) }
        var zero: Float = 0
        for _ in 0..<b.prewarmFrames { _ = step(&zero) }
        for (dst, src) in zip(silentXH, xh) { dst.pointer.update(from: src.pointer, count: src.count) }
        for (dst, src) in zip(silentCell, cell) { dst.pointer.update(from: src.pointer, count: src.count) }
    }

    public var conditioningSize: Int { 0 }
    public var receptiveField: Int { 1 }
    public var multiplyAddsPerSample: Int { blueprint.weights.count }
    public var stateBytes: Int { (xh + cell).reduce(0) { $0 + $1.byteCount } }

    public func prepare(maxBlockSize: Int) {
        maxBlock = maxBlockSize
        reset()
    }

    public func setConditioning(_ values: UnsafePointer<Float>) {}

    public func reset() {
        for (dst, src) in zip(xh, silentXH) { dst.pointer.update(from: src.pointer, count: src.count) }
        for (dst, src) in zip(cell, silentCell) { dst.pointer.update(from: src.pointer, count: src.count) }
    }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        precondition(frameCount <= maxBlock, "block larger than prepared")
        for t in 0..<frameCount {
            var x = input[t]
            output[t] = step(&x)
        }
    }

    @inline(__always)
    private func step(_ x: inout Float) -> Float {
        let h = hidden, g = gates.pointer
        for l in 0..<columns.count {
            let state = xh[l].pointer, input = inputWidths[l]
            if l == 0 { state[0] = x } else { state.update(from: xh[l - 1].pointer + inputWidths[l - 1], count: h) }
            g.update(from: bias[l].pointer, count: 4 * h)
            let w = columns[l].pointer
            for c in 0..<(input + h) {
                let v = state[c], col = w + c * 4 * h
                for r in 0..<(4 * h) { g[r] += col[r] * v }
            }
            let c = cell[l].pointer
            if fast {
                typealias V = SIMD16<Float>
                var r = 0
                while r < gates.count {
                    let t = FastTanh.tanh(V.load(g + r) * V.load(inScale.pointer + r))
                    V.load(offset.pointer + r).addingProduct(V.load(outScale.pointer + r), t).store(g + r)
                    r += 16
                }
                let cs = cellScratch.pointer
                for i in 0..<h {
                    c[i] = g[h + i] * c[i] + g[i] * g[2 * h + i]
                    cs[i] = c[i]
                }
                r = 0
                while r < h {
                    FastTanh.tanh(V.load(cs + r)).store(cs + r)
                    r += 16
                }
                for i in 0..<h { state[input + i] = g[3 * h + i] * cs[i] }
            } else {
                for i in 0..<h {
                    c[i] = Activation.sigmoid(g[h + i]) * c[i] + Activation.sigmoid(g[i]) * Float.tanh(g[2 * h + i])
                    state[input + i] = Activation.sigmoid(g[3 * h + i]) * Float.tanh(c[i])
                }
            }
        }
        let last = xh[columns.count - 1].pointer + inputWidths[columns.count - 1]
        var y = headBias
        for i in 0..<h { y += headWeight[i] * last[i] }
        return y
    }
}
