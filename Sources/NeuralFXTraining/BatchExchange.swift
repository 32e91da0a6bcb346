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
    /// Every rank's `values` added element by element, the same sums on
    /// every rank, in an order of the transport's choosing.
    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int)
    func allReduceSum(_ values: UnsafeMutablePointer<Double>, count: Int)
}

/// How ranks combine the per-item values of a batch.
public enum BatchReduction: String, CaseIterable, Sendable {
    /// Every item's values gathered, added in item order on every rank: the
    /// same bits as one process, at the price of moving every item's gradient.
    case ordered
    /// Each rank adds its own items, then the ranks sum those (MPI_Allreduce):
    /// about two gradients' bytes per step whatever the batch, and a result
    /// that differs from one process's by rounding.
    case sum
}

/// The items of a `batchSize` batch that `rank` of `size` computes: a
/// contiguous run, the runs of ranks 0, 1, ... in item order.
public func batchShare(_ batchSize: Int, rank: Int, size: Int) -> Range<Int> {
    (rank * batchSize / size)..<((rank + 1) * batchSize / size)
}
