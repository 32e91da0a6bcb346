import Foundation
import Glibc
import NeuralFXCore
import XCTest
import NeuralFXTraining

/// Ranks as threads of one process, meeting at a barrier for each exchange:
/// what MPI does for fxtrain, without mpirun, so the network's share-and-
/// gather logic is tested on its own (FXTrainTests runs it under Open MPI).
final class ThreadRanks: @unchecked Sendable {
    let size: Int
    var parts: [[UInt8]]
    var barrier = pthread_barrier_t()

    init(size: Int) {
        self.size = size
        parts = Array(repeating: [], count: size)
        pthread_barrier_init(&barrier, nil, UInt32(size))
    }

    deinit { pthread_barrier_destroy(&barrier) }

    func wait() { pthread_barrier_wait(&barrier) }
}

final class ThreadRank: BatchExchange {
    let rank: Int
    let shared: ThreadRanks
    var size: Int { shared.size }

    init(rank: Int, shared: ThreadRanks) {
        self.rank = rank
        self.shared = shared
    }

    func allGather(_ buffer: UnsafeMutableRawBufferPointer, byteCounts: [Int]) {
        let offset = byteCounts[..<rank].reduce(0, +)
        shared.parts[rank] = Array(buffer[offset..<(offset + byteCounts[rank])])
        shared.wait()
        var o = 0
        for r in 0..<size {
            for (i, byte) in shared.parts[r].enumerated() { buffer[o + i] = byte }
            o += byteCounts[r]
        }
        shared.wait()
    }

    func broadcast(_ buffer: UnsafeMutableRawBufferPointer) {
        if rank == 0 { shared.parts[0] = Array(buffer) }
        shared.wait()
        if rank != 0 { for (i, byte) in shared.parts[0].enumerated() { buffer[i] = byte } }
        shared.wait()
    }

    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) { reduce(values, count) }
    func allReduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) { reduce(values, count) }

    private func reduce<T: BinaryFloatingPoint>(_ values: UnsafeMutablePointer<T>, _ count: Int) {
        shared.parts[rank] = Array(UnsafeRawBufferPointer(start: values, count: count * MemoryLayout<T>.stride))
        shared.wait()
        for i in 0..<count {
            var sum: T = 0
            for r in 0..<size { sum += shared.parts[r].withUnsafeBytes { $0.load(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self) } }
            values[i] = sum
        }
        shared.wait()
    }
}

final class BatchExchangeTests: XCTestCase {
    let config: MicroTCNConfig = {
        var c = MicroTCNConfig.named("utcn-100-c", nparams: 1)!
        c.channelWidth = 4
        c.residualDelay = 0
        return c
    }()

    /// Every rank's gradient and running means, filled by the rank threads.
    final class Results<T>: @unchecked Sendable {
        var values: [([T], [[T]])]
        let lock = NSLock()
        init(_ count: Int) { values = Array(repeating: ([], []), count: count) }
    }

    /// One forward and backward of a batch, on one network or on `ranks`
    /// networks sharing it; returns every rank's gradient and running means.
    func step<T: TrainingScalar>(_: T.Type, ranks: Int, batch: Int, normalization: Normalization,
                                 reduction: BatchReduction = .ordered) -> [([T], [[T]])] {
        let shared = ThreadRanks(size: ranks)
        let config = self.config
        let weights = MicroTCNWeights.random(config, seed: 5)
        let results = Results<T>(ranks)
        let done = DispatchGroup()
        // One thread per rank (not a worker pool, which may run ranks one
        // after another and leave the barrier waiting for ever).
        for r in 0..<ranks {
            done.enter()
            Thread {
                let exchange: BatchExchange? = ranks == 1 ? nil : ThreadRank(rank: r, shared: shared)
                let net = TrainingNetwork<T>(config: config, batchSize: batch, outputLength: 64, threads: 1, weights: weights,
                                             exchange: exchange)
                net.normalization = normalization
                net.reduction = reduction
                for b in net.localItems {
                    var rng = SplitMix64(seed: UInt64(100 + b))
                    for t in 0..<net.inputLength { net.input(b)[t] = T(rng.nextFloat(in: -0.8...0.8)) }
                    net.knobs(b)[0] = T(rng.nextUnitFloat())
                }
                net.forward()
                for b in net.localItems {
                    for t in 0..<64 { net.outputGradient(b)[t] = net.output(b)[t] - T(0.1) }
                }
                net.backward()
                results.lock.lock()
                results.values[r] = (net.gradient, net.runningMean)
                results.lock.unlock()
                done.leave()
            }.start()
        }
        done.wait()
        return results.values
    }

    func testRanksComputeTheGradientOfOneProcessBitForBit() {
        for normalization in Normalization.allCases {
            let one = step(Float.self, ranks: 1, batch: 5, normalization: normalization)[0]
            for ranks in [2, 3, 5] {
                for (r, result) in step(Float.self, ranks: ranks, batch: 5, normalization: normalization).enumerated() {
                    XCTAssertTrue(result.0.map(\.bitPattern) == one.0.map(\.bitPattern), "\(normalization), \(ranks) ranks, rank \(r): gradient")
                    XCTAssertTrue(result.1.map { $0.map(\.bitPattern) } == one.1.map { $0.map(\.bitPattern) },
                                  "\(normalization), \(ranks) ranks, rank \(r): running mean")
                }
            }
        }
        let double = step(Double.self, ranks: 1, batch: 4, normalization: .batch)[0]
        for result in step(Double.self, ranks: 2, batch: 4, normalization: .batch) {
            XCTAssertTrue(result.0.map(\.bitPattern) == double.0.map(\.bitPattern), "Double gradient")
        }
    }

    func testSummedRanksAgreeWithEachOtherAndWithinRoundingOfOneProcess() {
        let one = step(Double.self, ranks: 1, batch: 6, normalization: .batch)[0].0
        let ranks = step(Double.self, ranks: 3, batch: 6, normalization: .batch, reduction: .sum)
        for result in ranks.dropFirst() { XCTAssertTrue(result.0.map(\.bitPattern) == ranks[0].0.map(\.bitPattern)) }
        let difference = zip(one, ranks[0].0).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let size = one.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        XCTAssertGreaterThan(size, 0)
        XCTAssertLessThan(difference / size, 1e-12)
    }

    func testSharesAreContiguousAndCoverTheBatch() {
        for size in 1...8 {
            let shares = (0..<size).map { batchShare(8, rank: $0, size: size) }
            XCTAssertEqual(shares.first?.lowerBound, 0)
            XCTAssertEqual(shares.last?.upperBound, 8)
            for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertTrue(shares.allSatisfy { $0.count >= 8 / size && $0.count <= 8 / size + 1 }, "\(shares)")
        }
    }
}
