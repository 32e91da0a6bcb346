import Foundation
import NeuralFXDistributed
import NeuralFXModelFiles
import NeuralFXTraining

extension Communicator: BatchExchange {}

/// A failure on one rank of a run across processes, known to every rank.
struct RankFailure: Error, CustomStringConvertible {
    let rank: Int
    let message: String
    // Rank 0 is where the user looks; another rank is named.
    var description: String { rank == 0 ? message : "rank \(rank): \(message)" }
}

/// fxtrain's side of training across processes started by mpirun.
final class Ranks {
    let communicator: Communicator
    /// Set while the ranks step together: a failure then cannot wait for
    /// the others to agree, so it ends the whole job.
    var inLockstep = false
    /// Each rank's process and machine ("process 1234 on node3"), once learned.
    var processes: [String] = []
    /// Running while the ranks step together (see `startWatchdog`).
    var watchdog: Watchdog?

    /// This rank has said, in its own line, why the job ends (and will call
    /// MPI_Abort): the other ranks, and mpirun's SIGTERM here, stay quiet.
    func endingWithOwnLine() {
        jobEndingSaid = 1
        watchdog?.announceEnding()
    }

    init(_ communicator: Communicator) { self.communicator = communicator }

    var rank: Int { communicator.rank }
    var size: Int { communicator.size }
    var isLeader: Bool { rank == 0 }

    /// Runs this rank's part of a set-up stage, then every rank learns
    /// whether every rank's part succeeded; the first failure (in rank
    /// order) is thrown on every rank, so none is left waiting for the
    /// others in a later exchange.
    func stage(_ body: () throws -> Void) throws {
        var message = ""
        do { try body() } catch { message = Ranks.describe(error) }
        let messages = communicator.gatherMessages(message)
        if let r = messages.firstIndex(where: { !$0.isEmpty }) { throw RankFailure(rank: r, message: messages[r]) }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let e as DatasetError: return e.description
        case let e as RankFailure: return e.description
        default: return "\(error)"
        }
    }
}

/// Runs a set-up stage: on one process, just `body`; across processes, as
/// `Ranks.stage`.
func stage(_ ranks: Ranks?, _ body: () throws -> Void) throws {
    if let ranks { try ranks.stage(body) } else { try body() }
}

extension TrainingDataset {
    /// A digest of everything training reads (names, rates, knobs, splits,
    /// every byte of every audio file), so ranks can tell that they read the
    /// same dataset. The files' bytes are read but not decoded, so a rank
    /// that decodes only its share of each batch can still check every sample.
    func fingerprint() throws -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            // Each step is a bijection of `hash`: a single differing word always shows.
            hash = (hash ^ value) &* 0x0000_0100_0000_01B3
            hash ^= hash >> 29
        }
        var files: [String: (digest: UInt64, size: UInt64)] = [:]
        func fileDigest(_ path: String) throws -> (digest: UInt64, size: UInt64) {
            if let known = files[path] { return known }
            guard let file = fopen(path, "rb") else { throw DatasetError("cannot read '\(path)'") }
            defer { fclose(file) }
            var digest: UInt64 = 0x9E37_79B9_7F4A_7C15
            let blockWords = 1 << 17
            var block = [UInt64](repeating: 0, count: blockWords)
            var total: UInt64 = 0
            while true {
                let n = block.withUnsafeMutableBytes { fread($0.baseAddress!, 1, $0.count, file) }
                if n == 0 { break }
                total += UInt64(n)
                // A short last block: its tail words are zeroed, and the length is mixed in below.
                let words = (n + 7) / 8
                block.withUnsafeMutableBytes { raw in
                    if n % 8 != 0 { for i in n..<(words * 8) { raw[i] = 0 } }
                }
                for i in 0..<words {
                    digest = (digest ^ block[i]) &* 0x0000_0100_0000_01B3
                    digest ^= digest >> 29
                }
            }
            if ferror(file) != 0 { throw DatasetError("cannot read '\(path)'") }
            digest = (digest ^ total) &* 0x0000_0100_0000_01B3
            files[path] = (digest, total)
            return (digest, total)
        }
        var bytes: UInt64 = 0
        for pair in pairs {
            for byte in (pair.name + "\u{0}").utf8 { mix(UInt64(byte)) }
            mix(UInt64(pair.sampleRate))
            mix(UInt64(pair.knobValues.count))
            for k in pair.knobValues { mix(k.bitPattern) }
            mix(outputGain(pair).bitPattern)
            for byte in (pair.split?.rawValue ?? "-").utf8 { mix(UInt64(byte)) }
            for path in [pair.inputPath, pair.targetPath] {
                let known = files[path] != nil
                let file = try fileDigest(path)
                mix(file.digest)
                if !known { bytes += file.size }
            }
        }
        return "\(pairs.count) pairs, \(bytes) bytes of audio files, digest \(String(hash, radix: 16))"
    }
}

/// What the job says when mpirun ends it because a rank failed (mpirun
/// then sends every surviving rank SIGTERM). Prepared before training, so
/// the signal handler only calls async-signal-safe functions.
private nonisolated(unsafe) var peerRanks: UnsafeMutablePointer<Int>?
private nonisolated(unsafe) var peerPids: UnsafeMutablePointer<pid_t>?
private nonisolated(unsafe) var peerMessages: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
private nonisolated(unsafe) var peerCount = 0
private nonisolated(unsafe) var ownRank = 0
private nonisolated(unsafe) var lowerRanksAllHere = true
private nonisolated(unsafe) var stoppedMessage: UnsafeMutablePointer<CChar>?
private nonisolated(unsafe) var checkpointFile: UnsafeMutablePointer<CChar>?
private nonisolated(unsafe) var checkpointSaved: UnsafeMutablePointer<CChar>?
private nonisolated(unsafe) var checkpointNotYet: UnsafeMutablePointer<CChar>?
/// Set when the job's one line has been said (by this rank's watchdog, or
/// rank 0's announced it): mpirun's SIGTERM then ends this rank quietly.
private nonisolated(unsafe) var jobEndingSaid: Int32 = 0
/// The watchdog's times (see `Watchdog.shared`).
private nonisolated(unsafe) var watchdogTimes: UnsafeMutablePointer<Double>?

extension Ranks {
    /// Learns every rank's host and process id. On SIGTERM during training,
    /// the lowest-numbered surviving rank (rank 0 unless it is the one that
    /// failed) names the rank on its machine that is gone (mpirun names one
    /// on another machine), says the checkpoint is intact, and every rank exits.
    func reportFailedRanksOnTermination(checkpointPath: String) {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let here = String(cString: host)
        let peers = communicator.gatherMessages("\(getpid()) \(here)")
        processes = peers.map { peer in
            let parts = peer.split(separator: " ", maxSplits: 1).map(String.init)
            return parts.count == 2 ? "process \(parts[0]) on \(parts[1])" : "process ?"
        }
        var ranks: [Int] = [], pids: [pid_t] = [], messages: [String] = []
        for (r, peer) in peers.enumerated() where r != rank {
            let parts = peer.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[1] == here, let pid = pid_t(parts[0]) else { continue }
            ranks.append(r)
            pids.append(pid)
            // A fresh line: the live status line may be half written.
            messages.append("\nfxtrain: error: rank \(r) (process \(pid) on \(here)) ended during training, so the job stopped; ")
        }
        ownRank = rank
        lowerRanksAllHere = (0..<rank).allSatisfy { ranks.contains($0) }
        peerCount = pids.count
        peerRanks = .allocate(capacity: max(ranks.count, 1))
        peerRanks!.initialize(from: ranks, count: ranks.count)
        peerPids = .allocate(capacity: max(pids.count, 1))
        peerPids!.initialize(from: pids, count: pids.count)
        peerMessages = .allocate(capacity: max(messages.count, 1))
        for (i, m) in messages.enumerated() { peerMessages![i] = strdup(m) }
        stoppedMessage = strdup("\nfxtrain: error: mpirun stopped the job (a rank on another machine failed, or mpirun was "
                                + "interrupted: to stop with a checkpoint, send mpirun SIGUSR1); ")
        checkpointFile = strdup(checkpointPath)
        checkpointSaved = strdup("the checkpoint \(checkpointPath) holds the last saved step: continue with --resume \(checkpointPath)\n")
        checkpointNotYet = strdup("no checkpoint was saved yet\n")
        signal(SIGTERM) { _ in
            // The watchdog has said the job's line already.
            if jobEndingSaid != 0 { _exit(143) }
            // This rank heard from no other for a while: it was the one frozen
            // or cut off, and the others have spoken.
            if let times = watchdogTimes {
                var t = timespec()
                clock_gettime(CLOCK_MONOTONIC, &t)
                if Watchdog.wasFrozen(times, now: Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9) { _exit(143) }
            }
            // One rank speaks: the lowest-numbered one still running.
            guard lowerRanksAllHere else { _exit(143) }
            var message = stoppedMessage
            for i in 0..<peerCount where kill(peerPids![i], 0) == -1 && errno == ESRCH {
                message = peerMessages![i]
                break
            }
            for i in 0..<peerCount where peerRanks![i] < ownRank && kill(peerPids![i], 0) == 0 { _exit(143) }
            if let message { _ = write(STDERR_FILENO, message, strlen(message)) }
            if let file = checkpointFile, let saved = access(file, F_OK) == 0 ? checkpointSaved : checkpointNotYet {
                _ = write(STDERR_FILENO, saved, strlen(saved))
            }
            _exit(143)
        }
    }
}

extension Ranks {
    /// Starts the watchdog (`Watchdog`) that ends the job with one line when
    /// a rank stops answering (its machine off, frozen or cut off). Every
    /// rank calls it, after `reportFailedRanksOnTermination`.
    func startWatchdog(checkpointPath: String) -> Watchdog? {
        let processes = self.processes, rank = self.rank
        let watchdog = communicator.startWatchdog(silent: { silence in
            jobEndingSaid = 1
            let names = silence.ranks.map { r in "rank \(r)" + (r < processes.count ? " (\(processes[r]))" : "") }
            var line = "\nfxtrain: error: " + names.joined(separator: " and ") + " stopped answering: "
                + String(format: "nothing heard for %.1f s (the deadline: %.0f s)", silence.seconds, silence.deadline)
                + "; its machine may be off, frozen or cut off from the network, so the job stopped; "
            if rank == 0 {
                line += FileManager.default.fileExists(atPath: checkpointPath)
                    ? "the checkpoint \(checkpointPath) holds the last saved step: continue with --resume \(checkpointPath)"
                    : "no checkpoint was saved yet"
            } else if let step = silence.checkpointStep {
                line += "rank 0 had saved step \(step) in its checkpoint \(checkpointPath): continue with --resume \(checkpointPath)"
                    + " on rank 0's machine"
            } else {
                line += "rank 0 had saved no checkpoint in this session"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }, ending: { jobEndingSaid = 1 })
        watchdogTimes = watchdog?.shared
        self.watchdog = watchdog
        return watchdog
    }
}
