import CMPI
import Glibc

/// The processes `mpirun` started together (MPI_COMM_WORLD), and the few
/// collective operations data-parallel training needs. The one place MPI
/// is called.
///
/// The thread that started MPI makes every exchange: worker threads compute,
/// the main thread exchanges between their phases. MPI is started with
/// MPI_THREAD_MULTIPLE only so that the watchdog's thread (`Watchdog`) can
/// send and receive heartbeats meanwhile.
public final class Communicator {
    public let rank: Int
    public let size: Int
    let world: MPI_Comm
    /// Whether MPI lets threads other than the main one call it (the watchdog needs it).
    public let threadsMayCall: Bool
    private var finished = false
    /// Bytes this rank has received from the others (by all-gathers and
    /// broadcasts), for reports of what training costs the network.
    public private(set) var receivedBytes = 0
    /// Seconds this rank has spent in exchanges: moving bytes, and waiting
    /// for slower ranks to arrive.
    public private(set) var exchangeSeconds = 0.0

    private func timed(_ body: () -> Void) {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        exchangeSeconds += Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }

    /// True when a launcher (Open MPI's mpirun, or a PMIx/PMI one such as
    /// srun) started this process: a plain run must never initialize MPI.
    public static func launchedByMPI(_ environment: [String: String]) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// This process's rank as its launcher set it, before MPI starts (nil
    /// without a launcher).
    public static func launchedRank(_ environment: [String: String]) -> Int? {
        ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    }

    /// Initializes MPI when a launcher started this process; nil otherwise.
    public static func start(environment: [String: String]) -> Communicator? {
        guard launchedByMPI(environment) else { return nil }
        var provided: Int32 = 0
        let status = MPI_Init_thread(nil, nil, cmpi_thread_multiple(), &provided)
        guard status == cmpi_success() else {
            fputs("fxtrain: error: MPI could not start (MPI_Init_thread returned \(status))\n", stderr)
            exit(1)
        }
        return Communicator(threadsMayCall: provided >= cmpi_thread_multiple())
    }

    private init(threadsMayCall: Bool) {
        self.threadsMayCall = threadsMayCall
        world = cmpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Each rank has written its own part of `buffer` (parts of
    /// `byteCounts[r]` bytes laid end to end in rank order); afterwards
    /// every rank holds every part. Bytes are copied, never combined, so
    /// what each rank then adds up it adds in one fixed order.
    public func allGather(_ buffer: UnsafeMutableRawBufferPointer, byteCounts: [Int]) {
        precondition(byteCounts.count == size && byteCounts.reduce(0, +) <= buffer.count)
        var counts = byteCounts.map { Int32(clamping: $0) }
        var offsets = [Int32](repeating: 0, count: size)
        var total = 0
        for r in 0..<size {
            precondition(total <= Int(Int32.max), "an exchange of more than 2 GiB")
            offsets[r] = Int32(total)
            total += byteCounts[r]
        }
        timed { MPI_Allgatherv(cmpi_in_place(), 0, cmpi_byte(), buffer.baseAddress, &counts, &offsets, cmpi_byte(), world) }
        receivedBytes += total - byteCounts[rank]
    }

    /// Every rank's `values` added element by element (MPI_Allreduce), the
    /// sums on every rank. The order of the additions is MPI's, not the
    /// caller's. Counted as the bytes a ring all-reduce receives.
    public func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count <= Int(Int32.max))
        timed { MPI_Allreduce(cmpi_in_place(), values, Int32(count), cmpi_float(), cmpi_sum(), world) }
        receivedBytes += 2 * (size - 1) * count * MemoryLayout<Float>.stride / size
    }

    public func allReduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        precondition(count <= Int(Int32.max))
        timed { MPI_Allreduce(cmpi_in_place(), values, Int32(count), cmpi_double(), cmpi_sum(), world) }
        receivedBytes += 2 * (size - 1) * count * MemoryLayout<Double>.stride / size
    }

    /// Rank 0's `buffer` into every rank's.
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count <= Int(Int32.max))
        timed { MPI_Bcast(buffer.baseAddress, Int32(buffer.count), cmpi_byte(), 0, world) }
        if rank != 0 { receivedBytes += buffer.count }
    }

    /// Rank 0's bytes, of a length only rank 0 knows, on every rank.
    public func broadcast(_ bytes: [UInt8]) -> [UInt8] {
        var length = [UInt64(bytes.count)]
        length.withUnsafeMutableBytes { broadcast($0) }
        var data = rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        data.withUnsafeMutableBytes { broadcast($0) }
        return data
    }

    /// Every rank's message (empty for none), in rank order: how ranks agree
    /// that a step went well everywhere before any of them goes on, so a
    /// failure on one rank ends every rank instead of leaving them waiting.
    public func gatherMessages(_ message: String) -> [String] {
        let width = 1024
        var buffer = [UInt8](repeating: 0, count: width * size)
        let mine = Array(message.utf8.prefix(width - 1))
        buffer.replaceSubrange((rank * width)..<(rank * width + mine.count), with: mine)
        buffer.withUnsafeMutableBytes { allGather($0, byteCounts: Array(repeating: width, count: size)) }
        return (0..<size).map { r in
            let part = buffer[(r * width)..<((r + 1) * width)]
            return String(decoding: part.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Ends every rank of the job at once; mpirun reports the code.
    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    /// Shuts MPI down; every rank calls it once before exiting.
    public func finish() {
        guard !finished else { return }
        finished = true
        MPI_Finalize()
    }
}
