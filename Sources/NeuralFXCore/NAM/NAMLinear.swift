/// Neural Amp Modeler's Linear model: one FIR filter of `receptiveField`
/// taps (PyTorch `Conv1d(1, 1, receptiveField)` order, oldest tap first),
/// optionally with a bias. Its silence state is an all-zero history.
public struct NAMLinearBlueprint: NetworkBlueprint, Equatable {
    public var taps: [Float]
    public var bias: Float?

    public init(taps: [Float], bias: Float?) {
        precondition(!taps.isEmpty)
        self.taps = taps
        self.bias = bias
    }

    public var architectureName: String { "nam-linear" }
    public var conditioningSize: Int { 0 }
    public func makeNetwork() -> any StreamingNetwork { NAMLinear(self) }
}

public final class NAMLinear: StreamingNetwork {
    let filter: CausalConv1d

    public init(_ b: NAMLinearBlueprint) {
        filter = CausalConv1d(inChannels: 1, outChannels: 1, kernelSize: b.taps.count, weights: b.taps,
                              bias: b.bias.map { [$0] })
    }

    public var conditioningSize: Int { 0 }
    public var receptiveField: Int { filter.kernelSize }
    public var multiplyAddsPerSample: Int { filter.kernelSize }
    public var stateBytes: Int { filter.stateBytes }

    public func prepare(maxBlockSize: Int) {
        filter.prepare(maxBlockSize: maxBlockSize, extraHistory: 0)
    }

    public func setConditioning(_ values: UnsafePointer<Float>) {}
    public func reset() { filter.reset() }

    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        filter.process(input, frames: frameCount, into: output)
    }
}
