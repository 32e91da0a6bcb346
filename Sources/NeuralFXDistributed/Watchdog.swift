import CMPI
import Foundation

/// Notices a rank that stops answering: a machine powered off, frozen, or cut
/// off from the network. Its process does not exit, so mpirun sees nothing,
/// and the others would wait in the next exchange forever.
///
/// A thread of each rank sends a heartbeat (16 bytes, on a communicator of
/// its own) every quarter second: rank 0 to every other rank, the others to
/// rank 0. It answers whatever the rank's main thread is doing (computing,
/// waiting in an exchange, validating, writing a checkpoint). A rank not
/// heard from for the deadline, `max(floorSeconds, stepFactor × the slowest
/// step seen)`, is taken for lost: rank 0 names it (or rank 1 names rank 0),
/// and the job ends by MPI_Abort. Rank 0's heartbeats carry the step of its
/// last checkpoint, so a rank naming rank 0 can say what is saved.
public final class Watchdog: @unchecked Sendable {
    public struct Silence: Sendable {
        /// The ranks not heard from.
        public let ranks: [Int]
        public let seconds: Double
        public let deadline: Double
        /// The step of rank 0's last checkpoint, as rank 0 last said (nil: none yet).
        public let checkpointStep: Int?
    }

    /// The shortest deadline: a busy machine can hold a heartbeat back a
    /// moment, never seconds.
    public static let floorSeconds = 5.0
    /// The deadline is at least this many times the slowest step (including
    /// a validation) a rank has taken: a machine slow enough to take that
    /// long per step may be slow to send heartbeats too.
    public static let stepFactor = 4.0
    static let interval = 0.25
    static let tag: Int32 = 7

    let rank: Int
    let comm: MPI_Comm
    let peers: [Int]
    private let lock = NSLock()
    private var slowestStep = 0.0
    private var savedStep = -1
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    /// Plain loads, for a signal handler (times in monotonic seconds):
    /// [0] when this rank last heard from another; [1] the deadline in
    /// force; [2] the watchdog's latest round; [3] when this process last
    /// came back from being frozen itself (a gap in its own rounds).
    public let shared: UnsafeMutablePointer<Double>

    /// Whether this process was itself frozen or cut off just now (its
    /// watchdog has not run for half a deadline, or came back from such a
    /// gap within the last deadline): then the others have spoken for it.
    public static func wasFrozen(_ shared: UnsafePointer<Double>, now: Double) -> Bool {
        now - shared[2] > shared[1] / 2 || now - shared[3] < shared[1]
    }
    let silent: @Sendable (Silence) -> Void
    let ending: @Sendable () -> Void

    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// `silent` runs on the rank that speaks for a silence (then the job
    /// ends); `ending` on the other ranks when rank 0 is ending the job.
    init(rank: Int, size: Int, comm: MPI_Comm, silent: @escaping @Sendable (Silence) -> Void,
         ending: @escaping @Sendable () -> Void) {
        self.rank = rank
        self.comm = comm
        peers = rank == 0 ? Array(1..<size) : [0]
        self.silent = silent
        self.ending = ending
        shared = .allocate(capacity: 4)
        shared[0] = Watchdog.now()
        shared[1] = Watchdog.floorSeconds
        shared[2] = shared[0]
        shared[3] = -.infinity
        Thread { [self] in watch() }.start()
    }

    /// The main thread's report of a step's duration (wall time, including
    /// any validation and checkpoint since the last step).
    public func noteStep(seconds: Double) {
        lock.lock()
        slowestStep = max(slowestStep, seconds)
        lock.unlock()
    }

    /// Rank 0's report of a checkpoint written at `step`.
    public func noteCheckpoint(step: Int) {
        lock.lock()
        savedStep = step
        lock.unlock()
    }

    /// This rank is about to end the job (MPI_Abort) after saying why in its
    /// own line: the others are told to end quietly (rank 0 passes the word
    /// on to the rest). Waits a moment for the word to arrive.
    public func announceEnding() {
        // Left allocated: the process ends right after.
        let notice = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
        notice[0] = 1
        notice[1] = 0
        for peer in peers {
            var request: MPI_Request?
            if MPI_Isend(notice, 16, cmpi_byte(), Int32(peer), Watchdog.tag, comm, &request) == cmpi_success() {
                MPI_Request_free(&request)
            }
        }
        usleep(300_000)
    }

    /// Stops the heartbeats (every rank, once the ranks no longer step together).
    public func stop() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        if !already { finished.wait() }
    }

    private func watch() {
        let n = peers.count
        // [kind, value]: kind 0 a heartbeat (value: rank 0's checkpoint step, or -1), kind 1 rank 0 ending the job.
        let received = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * n)
        let sent = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * n)
        let notice = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
        var receives = [MPI_Request?](repeating: nil, count: n), sends = receives
        var receiving = [Bool](repeating: false, count: n), sending = receiving
        func post(_ i: Int) {
            receiving[i] = MPI_Irecv(received + 2 * i, 16, cmpi_byte(), Int32(peers[i]), Watchdog.tag, comm, &receives[i]) == cmpi_success()
        }
        for i in 0..<n { post(i) }
        var heard = [Double](repeating: Watchdog.now(), count: n)
        var lastSent = -Double.infinity
        var knownCheckpoint = -1
        var spoke = false
        while true {
            lock.lock()
            let (stop, slowest, saved) = (stopping, slowestStep, savedStep)
            lock.unlock()
            if stop { break }
            let t = Watchdog.now()
            if t - shared[2] > shared[1] / 2 {
                // This process was frozen (SIGSTOP, a suspended VM): its peers
                // were the silent party's, not the other way round.
                shared[3] = t
                heard = heard.map { _ in t }
            }
            shared[2] = t
            for i in 0..<n where receiving[i] {
                var done: Int32 = 0
                if MPI_Test(&receives[i], &done, nil) != cmpi_success() { receiving[i] = false; continue }
                guard done != 0 else { continue }
                heard[i] = t
                shared[0] = t
                if received[2 * i] == 1 {
                    ending()
                    if rank == 0 && !spoke {
                        // Another rank is ending the job with its own line: pass the word on.
                        spoke = true
                        notice[0] = 1
                        notice[1] = 0
                        for j in 0..<n where j != i {
                            var request: MPI_Request?
                            if MPI_Isend(notice, 16, cmpi_byte(), Int32(peers[j]), Watchdog.tag, comm, &request) == cmpi_success() {
                                MPI_Request_free(&request)
                            }
                        }
                    }
                } else if peers[i] == 0 {
                    knownCheckpoint = Int(received[2 * i + 1])
                }
                post(i)
            }
            if t - lastSent >= Watchdog.interval {
                lastSent = t
                for i in 0..<n {
                    if sending[i] {
                        var done: Int32 = 0
                        if MPI_Test(&sends[i], &done, nil) != cmpi_success() || done != 0 { sending[i] = false }
                    }
                    // A peer that is not receiving still holds the last one: send no more.
                    guard !sending[i] else { continue }
                    sent[2 * i] = 0
                    sent[2 * i + 1] = Int64(rank == 0 ? saved : -1)
                    sending[i] = MPI_Isend(sent + 2 * i, 16, cmpi_byte(), Int32(peers[i]), Watchdog.tag, comm, &sends[i]) == cmpi_success()
                }
            }
            let deadline = max(Watchdog.floorSeconds, Watchdog.stepFactor * slowest)
            shared[1] = deadline
            let quiet = (0..<n).filter { t - heard[$0] > deadline }
            if !quiet.isEmpty && !spoke {
                let seconds = quiet.map { t - heard[$0] }.max()!
                // Rank 0 speaks; if rank 0 is the one lost, rank 1 does (a
                // higher rank only when rank 1 has stayed silent long after).
                if rank == 0 || rank == 1 || seconds > 2 * deadline {
                    spoke = true
                    let checkpoint = rank == 0 ? saved : knownCheckpoint
                    silent(Silence(ranks: quiet.map { peers[$0] }, seconds: seconds, deadline: deadline,
                                   checkpointStep: checkpoint >= 0 ? checkpoint : nil))
                    if rank == 0 {
                        // The ranks still answering end quietly: this line is the job's.
                        notice[0] = 1
                        notice[1] = 0
                        for i in 0..<n where !quiet.contains(i) {
                            var request: MPI_Request?
                            if MPI_Isend(notice, 16, cmpi_byte(), Int32(peers[i]), Watchdog.tag, comm, &request) == cmpi_success() {
                                MPI_Request_free(&request)
                            }
                        }
                        usleep(300_000)
                    }
                    MPI_Abort(comm, 1)
                }
            }
            usleep(50_000)
        }
        for i in 0..<n where receiving[i] {
            MPI_Cancel(&receives[i])
            MPI_Wait(&receives[i], nil)
        }
        for i in 0..<n where sending[i] { MPI_Request_free(&sends[i]) }
        finished.signal()
    }
}

extension Communicator {
    /// Starts this rank's watchdog (every rank calls it at the same point:
    /// it makes the heartbeats' communicator). Nil when MPI gives no thread
    /// support beyond the main thread, or with one rank.
    public func startWatchdog(silent: @escaping @Sendable (Watchdog.Silence) -> Void,
                              ending: @escaping @Sendable () -> Void) -> Watchdog? {
        guard size > 1, threadsMayCall else { return nil }
        var heartbeats: MPI_Comm?
        guard MPI_Comm_dup(world, &heartbeats) == cmpi_success(), let heartbeats else { return nil }
        // A peer that vanished makes a heartbeat fail, not the process.
        MPI_Comm_set_errhandler(heartbeats, cmpi_errors_return())
        return Watchdog(rank: rank, size: size, comm: heartbeats, silent: silent, ending: ending)
    }
}
