import Foundation
import NeuralFXAudio
import NeuralFXResampling

/// Dataset files through libsndfile: mono 32-bit float WAV.
public struct DatasetFileWriter: MonoFloatWAVWriting {
    public init() {}

    public func writeMonoFloatWAV(_ samples: [Float], sampleRate: Int, to path: String) throws {
        let writer = try AudioFileWriter(path: path, sampleRate: sampleRate, channels: 1, container: .wav,
                                         sampleFormat: .float)
        try samples.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: samples.count) }
        try writer.finish()
    }
}

/// Recordings mixed into the dry material (the clips in `examples/`).
public enum ExampleClips {
    static let extensions: Set<String> = ["wav", "flac", "aiff", "aif", "ogg", "mp3"]

    /// Every audio file directly in `folder`, by name, mixed to mono and
    /// resampled to `sampleRate` when it differs.
    public static func load(folder: String, sampleRate: Double) throws -> [(name: String, samples: [Float])] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DatasetError.io("cannot list example clips in '\(folder)'")
        }
        return try names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted().map { name in
            (name, try monoSamples(path: (folder as NSString).appendingPathComponent(name), sampleRate: sampleRate))
        }
    }

    static func monoSamples(path: String, sampleRate: Double) throws -> [Float] {
        let reader = try AudioFileReader(path: path)
        let channels = try reader.readAll()
        var mono = channels[0]
        for c in channels.dropFirst() { for i in mono.indices { mono[i] += c[i] } }
        if channels.count > 1 { for i in mono.indices { mono[i] /= Float(channels.count) } }
        guard Double(reader.sampleRate) != sampleRate else { return mono }
        let resampler = try StreamingResampler(from: Double(reader.sampleRate), to: sampleRate, channels: 1)
        var out: [Float] = []
        let append: (UnsafePointer<Float>, Int) throws -> Void = { p, n in out.append(contentsOf: UnsafeBufferPointer(start: p, count: n)) }
        try mono.withUnsafeBufferPointer { try resampler.process($0.baseAddress!, frames: mono.count, sink: append) }
        try resampler.finish(sink: append)
        return out
    }
}
