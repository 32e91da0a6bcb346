import Foundation
import NeuralFXCore
import NeuralFXModelFiles

/// Everything needed to continue a run exactly: weights, statistics,
/// optimizer and scheduler state, the random stream and the data cursor
/// (the step count). Floats are stored as raw bits so nothing is rounded.
public struct Checkpoint: Codable, Equatable {
    public var version = 1
    public var settings: TrainingSettings
    public var step: Int
    public var randomState: String
    public var parameters: FloatBits
    public var runningMean: [FloatBits]
    public var runningVariance: [FloatBits]
    public var adam: AdamState
    public var plateau: PlateauScheduler
    public var bestValidation: String
    public var bestParameters: FloatBits
    public var bestRunningMean: [FloatBits]
    public var bestRunningVariance: [FloatBits]
    public var elapsedSeconds: Double
    public var history: [LogRow]
    /// The command lines of the sessions so far, first to last (absent in
    /// checkpoints written before it was recorded).
    public var commands: [String]?
    /// The dataset, output and stopping point (absent in checkpoints
    /// written before they were recorded).
    public var run: RunRecord?

    public struct AdamState: Codable, Equatable {
        public var learningRateBits: UInt32
        public var weightDecayBits: UInt32
        public var step: Int
        public var firstMoment: FloatBits
        public var secondMoment: FloatBits
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Replaced atomically: a run killed at any moment leaves either the
        // old checkpoint or the new one.
        do { try ModelFile.writeAtomically(try encoder.encode(self), to: path, overwrite: true) } catch {
            throw DatasetError("cannot write checkpoint '\(path)': \(error)")
        }
    }

    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read checkpoint '\(path)'") }
        do { return try JSONDecoder().decode(Checkpoint.self, from: data) } catch {
            throw DatasetError("'\(path)' is not a fxtrain checkpoint")
        }
    }
}

/// A float vector stored bit-exactly (base64 of little-endian IEEE bits).
public struct FloatBits: Codable, Equatable {
    public var values: [Float]
    public init(_ values: [Float]) { self.values = values }

    public init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        guard data.count % 4 == 0 else { throw DatasetError("corrupt float data") }
        values = stride(from: 0, to: data.count, by: 4).map { i in
            let bits = UInt32(data[data.startIndex + i]) | UInt32(data[data.startIndex + i + 1]) << 8
                | UInt32(data[data.startIndex + i + 2]) << 16 | UInt32(data[data.startIndex + i + 3]) << 24
            return Float(bitPattern: bits)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var data = Data(capacity: values.count * 4)
        for v in values { let b = v.bitPattern; data.append(contentsOf: [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]) }
        var c = encoder.singleValueContainer()
        try c.encode(data)
    }
}

/// One line of the training log.
public struct LogRow: Codable, Equatable, Sendable {
    public var step: Int
    public var epoch: Double
    public var seconds: Double
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationESR: Double
    public var learningRate: Double
    public var samplesPerSecond: Double

    public static let csvHeader = "step,epoch,seconds,train_loss,val_loss,val_esr,learning_rate,samples_per_second"
    public var csv: String {
        String(format: "%d,%.4f,%.1f,%.6g,%.6g,%.6g,%.3g,%.0f", step, epoch, seconds, trainLoss, validationLoss, validationESR,
               learningRate, samplesPerSecond)
    }
}
