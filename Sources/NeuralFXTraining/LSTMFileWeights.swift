import NeuralFXCore

extension LSTMConfig {
    /// Samples of silence NAM's exporter runs from the zero state to find the
    /// state a .nam file stores (`_get_initial_state_burn_in`).
    public static let silenceSamples = 48_000

    /// The weights a .nam file stores for trained `parameters`: as NAM
    /// exports an LSTM, each layer's initial hidden and cell state replaced
    /// by the state after `silenceSamples` of silence from the zero state,
    /// where a player starts (the learned initial states only start training chunks).
    public func fileWeights(_ parameters: [Float]) -> [Float] {
        precondition(parameters.count == weightCount)
        var silent = self
        silent.burnIn = 0
        silent.truncation = nil
        let block = Self.silenceSamples / 10
        let net = LSTMTrainingNetwork<Float>(config: silent, batchSize: 1, outputLength: block, threads: 1, weights: parameters)
        for plan in net.layers {
            for i in 0..<hiddenSize {
                net.parameters[plan.initialHidden + i] = 0
                net.parameters[plan.initialCell + i] = 0
            }
        }
        // In blocks, each starting where the last ended: the same recurrence, a tenth of the memory.
        for _ in 0..<(Self.silenceSamples / block) {
            net.forward()
            for (l, plan) in net.layers.enumerated() {
                let (h, c) = net.finalState(0, layer: l)
                for i in 0..<hiddenSize {
                    net.parameters[plan.initialHidden + i] = h[i]
                    net.parameters[plan.initialCell + i] = c[i]
                }
            }
        }
        return net.parameters
    }
}
