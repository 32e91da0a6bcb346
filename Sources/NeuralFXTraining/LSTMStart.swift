import NeuralFXCore

extension LSTMConfig {
    /// Where an LSTM's training starts, as NAM's trainer starts it: PyTorch's
    /// `LSTM` initialization (every weight and both of its biases uniform in
    /// ±1/sqrt(H)) with NAM's shift of each bias, input gate -2 and forget
    /// gate +2 ("up the remembering"), the two biases summed into the one
    /// the file stores; initial states zero; the head as PyTorch's `Linear`
    /// (weight and bias uniform in ±1/sqrt(H)).
    public func trainingStart(seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let h = hiddenSize, bound = 1 / Float(h).squareRoot()
        var w: [Float] = []
        w.reserveCapacity(weightCount)
        for l in 0..<layers {
            let columns = (l == 0 ? 1 : h) + h
            for _ in 0..<(4 * h * columns) { w.append(rng.nextFloat(in: -bound...bound)) }
            for r in 0..<(4 * h) {
                let shift: Float = r < h ? -2 : r < 2 * h ? 2 : 0
                w.append((rng.nextFloat(in: -bound...bound) + shift) + (rng.nextFloat(in: -bound...bound) + shift))
            }
            w += [Float](repeating: 0, count: 2 * h)
        }
        for _ in 0...h { w.append(rng.nextFloat(in: -bound...bound)) }
        precondition(w.count == weightCount)
        return w
    }
}
