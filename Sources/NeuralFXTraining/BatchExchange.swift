/// What training across processes needs from the processes' transport
/// (`NeuralFXDistributed`'s MPI communicator in fxtrain), so this library
/// knows nothing of MPI.
///
/// Each rank runs a contiguous share of every batch (`batchShare`). Where
/// one process adds per-item values in item order (BatchNorm statistics,
/// their backward sums, parameter gradients, losses), the ranks gather every
/// item's value and each adds them in that same order: an all-reduce with a
/// fixed reduction order, so N ranks compute exactly, bit for bit, what one
/// process computes.
public protocol BatchExchange: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Each rank has written its own part of `buffer` (parts of
    /// `byteCounts[r]` bytes end to end in rank order); afterwards every
    /// rank holds every part.
    func allGather(_ buffer: UnsafeMutableRawBufferPointer, byteCounts: [Int])
    /// Rank 0's `buffer` into every rank's.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer)
}

/// The items of a `batchSize` batch that `rank` of `size` computes: a
/// contiguous run, the runs of ranks 0, 1, ... in item order.
public func batchShare(_ batchSize: Int, rank: Int, size: Int) -> Range<Int> {
    (rank * batchSize / size)..<((rank + 1) * batchSize / size)
}
