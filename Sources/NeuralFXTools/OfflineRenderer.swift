import Foundation
import NeuralFXAudio
import NeuralFXResampling
import NeuralFXCore

/// How far a render has got, for a progress bar.
public struct RenderProgress: Sendable {
    public let framesDone: Int64
    /// What the input header declares (an estimate for some compressed files).
    public let framesTotal: Int64
    public var fraction: Double { framesTotal > 0 ? min(Double(framesDone) / Double(framesTotal), 1) : 0 }
}

/// Renders a file through a model, streaming: every channel through its own
/// `EffectEngine`, resampled to the model's rate and back when the file's
/// differs, in blocks so memory stays flat for any length.
///
/// The output goes to a hidden temporary file beside it, renamed into place
/// at the end and removed on any error. Non-finite input samples (NaN, Inf in
/// float files) are rendered as silence and counted in the summary, before
/// they reach the resampler, whose filter would spread them.
public final class OfflineRenderer {
    public let model: EffectModel
    public let settings: EffectSettings
    public let blockFrames: Int

    public init(model: EffectModel, settings: EffectSettings, blockFrames: Int = 4096) {
        precondition(blockFrames > 0)
        self.model = model
        self.settings = settings
        self.blockFrames = blockFrames
    }

    public func render(_ files: RenderFiles, progress: ((RenderProgress) -> Void)? = nil) throws -> RenderSummary {
        do {
            return try renderThroughTemporary(files, progress: progress)
        } catch let AudioFileError.cannotCreate(_, reason) {
            // The hidden temporary name would only puzzle: name the output.
            throw AudioFileError.cannotCreate(path: files.outputPath, reason: reason)
        } catch let AudioFileError.writeFailed(_, reason) {
            throw AudioFileError.writeFailed(path: files.outputPath, reason: reason)
        }
    }

    private func renderThroughTemporary(_ files: RenderFiles, progress: ((RenderProgress) -> Void)?) throws
        -> RenderSummary {
        let start = ContinuousClock.now
        let reader = files.reader
        let channels = reader.channels
        let fileRate = Double(reader.sampleRate)
        let resampling = fileRate != model.sampleRate

        let temporary = TemporaryOutput(beside: files.outputPath)
        let writer = try AudioFileWriter(path: temporary.path, sampleRate: reader.sampleRate, channels: channels,
                                         container: files.outputContainer, sampleFormat: files.outputSampleFormat)
        let toModel = resampling ? try StreamingResampler(from: fileRate, to: model.sampleRate, channels: channels,
                                                          blockFrames: blockFrames) : nil
        let fromModel = resampling ? try StreamingResampler(from: model.sampleRate, to: fileRate, channels: channels,
                                                            blockFrames: blockFrames) : nil
        let stage = ModelStage(model: model, settings: settings, channels: channels, blockFrames: blockFrames)
        let inputMeter = LoudnessMeter(sampleRate: fileRate, channels: channels)
        let outputMeter = LoudnessMeter(sampleRate: fileRate, channels: channels)

        var framesRead: Int64 = 0, framesWritten: Int64 = 0
        var nonFinite = 0, clipped = 0
        let clips = files.outputSampleFormat.clipsAtFullScale

        // The output has the input's length: frame for frame at the model's
        // rate; through the resamplers, settled by `finish(totalOutputFrames:)`.
        func write(_ frames: UnsafePointer<Float>, _ count: Int) throws {
            if clips { for i in 0..<count * channels where abs(frames[i]) > 1 { clipped += 1 } }
            outputMeter.process(frames, frames: count)
            try writer.write(frames, frames: count)
            framesWritten += Int64(count)
        }
        func afterModel(_ frames: UnsafePointer<Float>, _ count: Int) throws {
            if let fromModel { try fromModel.process(frames, frames: count, sink: write) } else { try write(frames, count) }
        }
        func throughModel(_ frames: UnsafePointer<Float>, _ count: Int) throws {
            try stage.process(frames, frames: count, sink: afterModel)
        }

        let input = UnsafeMutablePointer<Float>.allocate(capacity: blockFrames * channels)
        defer { input.deallocate() }
        while true {
            let n = try reader.read(into: input, maxFrames: blockFrames)
            if n == 0 { break }
            for i in 0..<n * channels where !input[i].isFinite {
                input[i] = 0
                nonFinite += 1
            }
            inputMeter.process(input, frames: n)
            framesRead += Int64(n)
            if let toModel { try toModel.process(input, frames: n, sink: throughModel) } else { try throughModel(input, n) }
            progress?(RenderProgress(framesDone: framesRead, framesTotal: max(reader.frames, framesRead)))
        }
        guard framesRead > 0 else { throw AudioFileError.empty(path: reader.path) }
        if let toModel { try toModel.finish(sink: throughModel) }
        if let fromModel { try fromModel.finish(totalOutputFrames: framesRead, sink: write) }
        try writer.finish()
        try temporary.commit(replace: files.force)

        return RenderSummary(
            inputPath: reader.path, outputPath: files.outputPath, modelName: model.name, settings: settings.summary,
            frames: framesRead, sampleRate: reader.sampleRate, channels: channels, modelSampleRate: model.sampleRate, outputContainer: files.outputContainer,
            outputSampleFormat: files.outputSampleFormat,
            elapsedSeconds: seconds(ContinuousClock.now - start),
            inputPeakDB: inputMeter.samplePeakDecibels, inputLoudness: inputMeter.integratedLoudness,
            outputPeakDB: outputMeter.samplePeakDecibels, outputLoudness: outputMeter.integratedLoudness,
            nonFiniteInputSamples: nonFinite, engineResets: stage.engineResets, clippedSamples: clipped,
            framesWritten: framesWritten)
    }
}

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// One engine per channel between interleaved input and output.
private final class ModelStage {
    let engines: [EffectEngine]
    let channels: Int
    let chunk: Int
    let planar: [UnsafeMutablePointer<Float>]
    let planarInput: [UnsafePointer<Float>]
    let interleaved: UnsafeMutablePointer<Float>

    init(model: EffectModel, settings: EffectSettings, channels: Int, blockFrames: Int) {
        self.channels = channels
        chunk = blockFrames
        engines = (0..<channels).map { _ in
            let engine = EffectEngine(model: model, maxBlockSize: blockFrames)
            settings.configure(engine)
            return engine
        }
        planar = (0..<channels).map { _ in .allocate(capacity: blockFrames) }
        planarInput = planar.map { UnsafePointer($0) }
        interleaved = .allocate(capacity: blockFrames * channels)
    }

    deinit {
        planar.forEach { $0.deallocate() }
        interleaved.deallocate()
    }

    var engineResets: Int { engines.reduce(0) { $0 + $1.nonFiniteResets } }

    func process(_ input: UnsafePointer<Float>, frames: Int, sink: (UnsafePointer<Float>, Int) throws -> Void) throws {
        var offset = 0
        while offset < frames {
            let n = min(chunk, frames - offset)
            deinterleave(input + offset * channels, into: planar, frames: n)
            for c in 0..<channels { engines[c].process(planar[c], planar[c], frameCount: n) }
            interleave(planarInput, into: interleaved, frames: n)
            try sink(interleaved, n)
            offset += n
        }
    }
}
