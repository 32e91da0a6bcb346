import Foundation
import NeuralFXAudio

/// How loud each stretch of every pair's (aligned) target is, at a coarse
/// grain: the energy of each block of `blockLength` samples. The chunk
/// sampler asks it whether a drawn chunk is near-silent without reading the
/// chunk, so a process that holds no samples (a rank other than 0, which
/// reads only its own chunks from disk) draws the same chunks as one that
/// holds them all: rank 0 computes it and sends it to the others.
///
/// A chunk's energy is read from the blocks' running sum (in Double), linear
/// within the block at each end; about 4 bytes per `blockLength` samples.
public struct ChunkLoudness: Sendable, Equatable {
    public let blockLength: Int
    /// Samples of each pair's target that the blocks cover.
    public let lengths: [Int]
    /// Each pair's block energies (sums of squared samples; the last block
    /// may be shorter).
    public let blockEnergies: [[Float]]
    /// Running sums of `blockEnergies`, one more than the blocks.
    let cumulative: [[Double]]

    /// Blocks of 1/32 of a chunk: a chunk's energy is off by at most the
    /// two partial blocks at its ends.
    public static func blockLength(chunkLength: Int) -> Int { max(1, chunkLength / 32) }

    public init(blockLength: Int, lengths: [Int], blockEnergies: [[Float]]) {
        self.blockLength = blockLength
        self.lengths = lengths
        self.blockEnergies = blockEnergies
        cumulative = blockEnergies.map { energies in
            var total = 0.0
            return [0] + energies.map { total += Double($0); return total }
        }
    }

    /// From the targets themselves.
    public init(targets: [[Float]], blockLength: Int) {
        let energies = targets.map { target in
            stride(from: 0, to: target.count, by: blockLength).map { start in
                var sum = 0.0
                for i in start..<min(start + blockLength, target.count) { sum += Double(target[i]) * Double(target[i]) }
                return Float(sum)
            }
        }
        self.init(blockLength: blockLength, lengths: targets.map(\.count), blockEnergies: energies)
    }

    /// The target's energy before sample `position` of `pair`.
    func energy(before position: Int, pair: Int) -> Double {
        let k = position / blockLength
        let sums = cumulative[pair]
        guard k < blockEnergies[pair].count else { return sums[sums.count - 1] }
        let length = min(blockLength, lengths[pair] - k * blockLength)
        return sums[k] + Double(position - k * blockLength) / Double(length) * Double(blockEnergies[pair][k])
    }

    /// The energy of `pair`'s target in `start ..< start + length`.
    public func energy(pair: Int, start: Int, length: Int) -> Double {
        energy(before: start + length, pair: pair) - energy(before: start, pair: pair)
    }

    /// As bytes, to send to other processes.
    public var bytes: [UInt8] {
        var words: [UInt64] = [UInt64(blockLength), UInt64(lengths.count)]
        for (length, energies) in zip(lengths, blockEnergies) { words += [UInt64(length), UInt64(energies.count)] }
        var data = words.withUnsafeBytes { [UInt8]($0) }
        for energies in blockEnergies { energies.withUnsafeBytes { data += $0 } }
        return data
    }

    public init?(bytes: [UInt8]) {
        func word(_ i: Int) -> Int? {
            guard (i + 1) * 8 <= bytes.count else { return nil }
            return Int(exactly: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i * 8 + $1]) << (8 * $1) })
        }
        guard let blockLength = word(0), blockLength > 0, let pairs = word(1), pairs < bytes.count else { return nil }
        var lengths: [Int] = [], counts: [Int] = []
        for p in 0..<pairs {
            guard let length = word(2 + 2 * p), let count = word(3 + 2 * p) else { return nil }
            lengths.append(length)
            counts.append(count)
        }
        var offset = (2 + 2 * pairs) * 8
        var energies: [[Float]] = []
        for count in counts {
            guard count <= (bytes.count - offset) / 4 else { return nil }
            energies.append((0..<count).map { i in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + 4 * i + $1]) << (8 * $1) })
            })
            offset += 4 * count
        }
        guard offset == bytes.count else { return nil }
        self.init(blockLength: blockLength, lengths: lengths, blockEnergies: energies)
    }
}

/// Reads training chunks straight from the dataset's files (libsndfile: seek,
/// then read), shifted, flipped and scaled as the checks and the knobs'
/// output gain change the samples held in memory, so what it reads is,
/// bit for bit, what a process holding the decoded dataset copies.
public final class ChunkFiles {
    struct Source {
        var inputPath: String
        var targetPath: String
        /// Frames of each file before the aligned pair's first sample.
        var inputSkip: Int
        var targetSkip: Int
        var flip: Bool
        /// The knobs' output gain divided out of the target (1: none).
        var gain: Float
    }

    let sources: [Source]
    private var open: [String: AudioFileReader] = [:]
    /// Files kept open between steps; beyond this many they are closed.
    static let openLimit = 64

    /// For a dataset loaded without its samples, with the checks made on rank 0.
    public init(dataset: TrainingDataset, checks: [PairCheck]) throws {
        guard checks.count == dataset.pairs.count else {
            throw DatasetError("the dataset has \(dataset.pairs.count) pairs here but \(checks.count) where it was checked")
        }
        sources = zip(dataset.pairs, checks).map { pair, check in
            Source(inputPath: pair.inputPath, targetPath: pair.targetPath, inputSkip: max(0, -check.latency),
                   targetSkip: max(0, check.latency), flip: check.polarityInverted,
                   gain: dataset.knobs.setsOutputGain ? Float(1 / dataset.outputGain(pair)) : 1)
        }
    }

    private func reader(_ path: String) throws -> AudioFileReader {
        if let r = open[path] { return r }
        if open.count >= ChunkFiles.openLimit { open.removeAll() }
        do {
            let r = try AudioFileReader(path: path)
            open[path] = r
            return r
        } catch let e as AudioFileError { throw DatasetError(e.description) }
    }

    private func read(_ path: String, frame: Int, count: Int, into buffer: UnsafeMutablePointer<Float>) throws {
        let r = try reader(path)
        do {
            try r.seek(toFrame: frame)
            let n = try r.read(into: buffer, maxFrames: count)
            DecodedFrames.count += n
            guard n == count else {
                throw DatasetError("'\(path)' ends at frame \(frame + n) but training needs frame \(frame + count - 1): did it change during training?")
            }
        } catch let e as AudioFileError { throw DatasetError(e.description) }
    }

    /// `count` samples of `pair`'s aligned input from `start` (negative
    /// positions read as silence, as the padding in front of the input).
    public func readInput(pair: Int, start: Int, count: Int, into buffer: UnsafeMutablePointer<Float>) throws {
        let zeros = min(max(0, -start), count)
        buffer.update(repeating: 0, count: zeros)
        guard zeros < count else { return }
        let s = sources[pair]
        try read(s.inputPath, frame: s.inputSkip + start + zeros, count: count - zeros, into: buffer + zeros)
    }

    /// `count` samples of `pair`'s aligned target from `start`.
    public func readTarget(pair: Int, start: Int, count: Int, into buffer: UnsafeMutablePointer<Float>) throws {
        let s = sources[pair]
        try read(s.targetPath, frame: s.targetSkip + start, count: count, into: buffer)
        if s.flip { for i in 0..<count { buffer[i] = -buffer[i] } }
        if s.gain != 1 { for i in 0..<count { buffer[i] *= s.gain } }
    }
}
