import NeuralFXCore

extension MicroTCNWeights {
    /// Where training starts: He-initialized convolutions (as `random`), but
    /// a network whose output is already `tanh(input)`.
    ///
    /// From micro-tcn's plain random start, the output is loud noise and the
    /// first minutes go into finding the identity that every audio effect is
    /// a variation of; on a CPU budget of minutes that is most of the run.
    /// So, like ReZero (Bachlechner et al. 2021) and zero-initialized final
    /// layers, the residual path carries the input through unchanged (block
    /// 0 fans it out with random gains, later blocks pass each channel on
    /// with gain 1), the output layer reads it back exactly, and the FiLM
    /// gains and shifts start at `branchScale` of their usual size, so each
    /// block's convolution branch adds almost nothing until trained. A
    /// constant the branches add at zero input (sigmoid's 1/2) is removed
    /// by the output bias. Envelopes start spread from 10 ms to 3 s at `sampleRate`.
    public static func trainingStart(_ c: MicroTCNConfig, seed: UInt64, branchScale: Float = 0.05,
                                     sampleRate: Double = 44100) -> MicroTCNWeights {
        var w = random(c, seed: seed, sampleRate: sampleRate)
        let atZero: Float = c.activation == .sigmoid ? 0.5 : 0
        // Gain and constant offset of the residual path, per channel.
        var gain: [Float] = [1], offset: [Float] = [0]
        for n in 0..<c.nblocks {
            let cin = c.inChannels(ofBlock: n), cout = c.outChannels(ofBlock: n)
            let fanOut = cout / cin
            if n > 0 && cin == cout { w.blocks[n].residual = [Float](repeating: 1, count: cout) }
            let r = w.blocks[n].residual
            gain = (0..<cout).map { r[$0] * gain[$0 / fanOut] }
            offset = (0..<cout).map { r[$0] * offset[$0 / fanOut] + atZero }
            if c.nparams > 0 {
                w.blocks[n].adaptorWeight = w.blocks[n].adaptorWeight!.map { $0 * branchScale }
                w.blocks[n].adaptorBias = w.blocks[n].adaptorBias!.map { $0 * branchScale }
            } else {
                w.blocks[n].batchNormWeight = w.blocks[n].batchNormWeight!.map { $0 * branchScale }
                w.blocks[n].batchNormBias = w.blocks[n].batchNormBias!.map { $0 * branchScale }
            }
        }
        let norm = gain.reduce(0) { $0 + $1 * $1 }
        let channels = gain.count
        for o in 0..<c.noutputs {
            for k in 0..<channels { w.outputWeight[o * channels + k] = o == 0 && norm > 0 ? gain[k] / norm : 0 }
            w.outputBias[o] = -(0..<channels).reduce(0) { $0 + w.outputWeight[o * channels + $1] * offset[$1] }
        }
        return w
    }
}
