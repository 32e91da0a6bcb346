import NeuralFXCore

extension NAMWaveNetConfig {
    /// Where a WaveNet's training starts: PyTorch's default `Conv1d`
    /// initialization, as NAM's trainer starts (weights and biases uniform in
    /// ±1/sqrt(fan in), fan in = input channels x kernel size), and
    /// `headScale` as the last weight. (Without a post-head: none trains.)
    public func trainingStart(seed: UInt64, headScale: Float = WaveNetPreset.headScale) -> [Float] {
        precondition(head == nil)
        var rng = SplitMix64(seed: seed)
        var w: [Float] = []
        w.reserveCapacity(weightCount)
        func uniform(_ count: Int, fanIn: Int) {
            let bound = 1 / Float(fanIn).squareRoot()
            for _ in 0..<count { w.append(rng.nextFloat(in: -bound...bound)) }
        }
        for a in layerArrays {
            let c = a.channels, cc = a.convChannels
            uniform(c * a.inputSize, fanIn: a.inputSize)
            for _ in a.dilations {
                uniform(cc * c * a.kernelSize, fanIn: c * a.kernelSize)
                uniform(cc, fanIn: c * a.kernelSize)
                uniform(cc * a.conditionSize, fanIn: a.conditionSize)
                uniform(c * c, fanIn: c)
                uniform(c, fanIn: c)
            }
            uniform(a.headSize * c, fanIn: c)
            if a.headBias { uniform(a.headSize, fanIn: c) }
        }
        w.append(headScale)
        precondition(w.count == weightCount)
        return w
    }
}
