import Foundation
import NeuralFXDistributed
import NeuralFXModelFiles
import NeuralFXTraining

extension Communicator: BatchExchange {}

/// A failure on one rank of a run across processes, known to every rank.
struct RankFailure: Error, CustomStringConvertible {
    let rank: Int
    let message: String
    var description: String { "rank \(rank): \(message)" }
}

/// fxtrain's side of training across processes started by mpirun.
final class Ranks {
    let communicator: Communicator
    /// Set while the ranks step together: a failure then cannot wait for
    /// the others to agree, so it ends the whole job.
    var inLockstep = false

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
    /// A digest of everything training reads (names, rates, knobs, every
    /// sample), so ranks can tell that they read the same dataset.
    var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            var v = value
            for _ in 0..<8 { hash = (hash ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3; v >>= 8 }
        }
        for pair in pairs {
            for byte in (pair.name + "\u{0}").utf8 { mix(UInt64(byte)) }
            mix(UInt64(pair.sampleRate))
            for k in pair.knobValues { mix(k.bitPattern) }
            mix(UInt64(pair.input.count))
            for x in pair.input { mix(UInt64(x.bitPattern)) }
            mix(UInt64(pair.target.count))
            for x in pair.target { mix(UInt64(x.bitPattern)) }
        }
        return "\(pairs.count) pairs, digest \(String(hash, radix: 16))"
    }
}
