import CSndFile
import Foundation

/// Reads any file libsndfile understands (WAV, FLAC, AIFF, Ogg, MP3, ...) as
/// 32-bit float samples, block by block, so memory stays flat for any length.
public final class AudioFileReader {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames the file declares. Exact for PCM containers; for compressed
    /// streams (MP3 in particular) libsndfile may only estimate it.
    public let frames: Int64
    public let container: AudioContainer
    public let sampleFormat: AudioSampleFormat

    private var file: OpaquePointer?
    private var interleavedScratch: [Float] = []

    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AudioFileError.notFound(path: path)
        }
        if isDirectory.boolValue { throw AudioFileError.isDirectory(path: path) }
        var info = SF_INFO()
        guard let handle = sf_open(path, Int32(SFM_READ), &info) else {
            throw AudioFileError.unreadable(path: path, reason: oneLine(String(cString: sf_strerror(nil))))
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(handle)
            throw AudioFileError.unreadable(path: path, reason: "invalid header (\(info.channels) channels at \(info.samplerate) Hz)")
        }
        file = handle
        sampleRate = Int(info.samplerate)
        channels = Int(info.channels)
        frames = info.frames
        container = AudioContainer(code: info.format)
        sampleFormat = AudioSampleFormat(code: info.format)
    }

    deinit { close() }

    public func close() {
        if let f = file { sf_close(f) }
        file = nil
    }

    /// Moves the read position to `frame` (counted from the file's first
    /// frame), so a stretch can be read without decoding what comes before.
    public func seek(toFrame frame: Int) throws {
        guard let f = file else { throw AudioFileError.readFailed(path: path, reason: "the file is closed") }
        if sf_seek(f, sf_count_t(frame), SEEK_SET) < 0 {
            throw AudioFileError.readFailed(path: path, reason: "cannot seek to frame \(frame): "
                                            + oneLine(String(cString: sf_strerror(f))))
        }
    }

    /// Reads up to `maxFrames` frames, channels interleaved, into `buffer`
    /// (room for `maxFrames * channels` floats). Returns the frames read;
    /// 0 at the end of the file.
    public func read(into buffer: UnsafeMutablePointer<Float>, maxFrames: Int) throws -> Int {
        guard let f = file else { return 0 }
        var total = 0
        // libsndfile may return short counts before the end for some codecs:
        // keep asking until it returns nothing.
        while total < maxFrames {
            let n = Int(sf_readf_float(f, buffer + total * channels, sf_count_t(maxFrames - total)))
            if n <= 0 { break }
            total += n
        }
        let error = sf_error(f)
        if error != 0 {
            throw AudioFileError.readFailed(path: path, reason: oneLine(String(cString: sf_error_number(error))))
        }
        return total
    }

    /// Reads up to `maxFrames` frames into one buffer per channel
    /// (`channelBuffers.count == channels`, each with room for `maxFrames`).
    public func read(into channelBuffers: [UnsafeMutablePointer<Float>], maxFrames: Int) throws -> Int {
        precondition(channelBuffers.count == channels, "one buffer per channel")
        if interleavedScratch.count < maxFrames * channels {
            interleavedScratch = [Float](repeating: 0, count: maxFrames * channels)
        }
        return try interleavedScratch.withUnsafeMutableBufferPointer { scratch in
            let n = try read(into: scratch.baseAddress!, maxFrames: maxFrames)
            deinterleave(UnsafePointer(scratch.baseAddress!), into: channelBuffers, frames: n)
            return n
        }
    }

    /// Reads the whole rest of the file, one array per channel. For tests and
    /// short files; streaming code uses `read(into:maxFrames:)`.
    public func readAll() throws -> [[Float]] {
        var result = [[Float]](repeating: [], count: channels)
        let block = 8192
        var buffer = [Float](repeating: 0, count: block * channels)
        while true {
            let n = try buffer.withUnsafeMutableBufferPointer { try read(into: $0.baseAddress!, maxFrames: block) }
            if n == 0 { break }
            for c in 0..<channels {
                result[c].append(contentsOf: stride(from: c, to: n * channels, by: channels).map { buffer[$0] })
            }
        }
        return result
    }
}

/// Splits interleaved frames into per-channel buffers.
public func deinterleave(_ interleaved: UnsafePointer<Float>, into channelBuffers: [UnsafeMutablePointer<Float>],
                         frames: Int) {
    let channels = channelBuffers.count
    for (c, out) in channelBuffers.enumerated() {
        var src = interleaved + c
        for i in 0..<frames {
            out[i] = src.pointee
            src += channels
        }
    }
}

/// Joins per-channel buffers into interleaved frames.
public func interleave(_ channelBuffers: [UnsafePointer<Float>], into interleaved: UnsafeMutablePointer<Float>,
                       frames: Int) {
    let channels = channelBuffers.count
    for (c, src) in channelBuffers.enumerated() {
        var dst = interleaved + c
        for i in 0..<frames {
            dst.pointee = src[i]
            dst += channels
        }
    }
}
