import CSndFile
import Foundation

/// Writes 32-bit float frames into a file of a chosen container and sample
/// format, block by block. Integer formats clip at full scale (rather than
/// wrapping around).
public final class AudioFileWriter {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    public let container: AudioContainer
    public let sampleFormat: AudioSampleFormat
    public private(set) var framesWritten: Int64 = 0

    private var file: OpaquePointer?

    /// Opens `path` for writing, replacing what is there. `container`
    /// defaults to the one `path`'s extension names.
    public init(path: String, sampleRate: Int, channels: Int, container: AudioContainer? = nil,
                sampleFormat: AudioSampleFormat) throws {
        guard let container = container ?? AudioContainer.forPath(path) else {
            throw AudioFileError.unsupportedExtension(path: path)
        }
        guard container.canWrite(sampleFormat, channels: channels, sampleRate: sampleRate) else {
            throw AudioFileError.unsupportedSampleFormat(container: container, sampleFormat: sampleFormat,
                                                        supported: container.writableSampleFormats(channels: channels,
                                                                                                   sampleRate: sampleRate))
        }
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
        self.container = container
        self.sampleFormat = sampleFormat
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = container.code! | sampleFormat.code!
        guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw AudioFileError.cannotCreate(path: path, reason: oneLine(String(cString: sf_strerror(nil))))
        }
        file = handle
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
    }

    deinit {
        if let f = file { sf_close(f) }
    }

    /// Appends `frames` interleaved frames.
    public func write(_ interleaved: UnsafePointer<Float>, frames: Int) throws {
        guard let f = file else { throw AudioFileError.writeFailed(path: path, reason: "file already closed") }
        guard frames > 0 else { return }
        let n = sf_writef_float(f, interleaved, sf_count_t(frames))
        if n != frames {
            throw AudioFileError.writeFailed(path: path, reason: oneLine(String(cString: sf_strerror(f))))
        }
        framesWritten += n
    }

    /// Appends frames given as one buffer per channel.
    public func write(_ channelBuffers: [UnsafePointer<Float>], frames: Int) throws {
        precondition(channelBuffers.count == channels, "one buffer per channel")
        var scratch = [Float](repeating: 0, count: frames * channels)
        try scratch.withUnsafeMutableBufferPointer { buffer in
            interleave(channelBuffers, into: buffer.baseAddress!, frames: frames)
            try write(UnsafePointer(buffer.baseAddress!), frames: frames)
        }
    }

    /// Finishes the file (headers, encoder flush). Call it before using the
    /// file; errors here mean the file is incomplete.
    public func finish() throws {
        guard let f = file else { return }
        file = nil
        let status = sf_close(f)
        if status != 0 {
            throw AudioFileError.writeFailed(path: path, reason: oneLine(String(cString: sf_error_number(status))))
        }
    }

    /// The sample format to write: the caller's request if the container
    /// stores it, else the input's own when the container stores it (a lossy
    /// codec only into a lossy container: an MP3 decoded to WAV becomes
    /// float, not MP3-in-WAV), else the container's default.
    public static func sampleFormat(requested: AudioSampleFormat?, input: AudioSampleFormat?, container: AudioContainer,
                                    channels: Int, sampleRate: Int) throws -> AudioSampleFormat {
        if let requested {
            guard container.canWrite(requested, channels: channels, sampleRate: sampleRate) else {
                throw AudioFileError.unsupportedSampleFormat(
                    container: container, sampleFormat: requested,
                    supported: container.writableSampleFormats(channels: channels, sampleRate: sampleRate))
            }
            return requested
        }
        if let input, !input.isLossyCodec || container.defaultSampleFormat.isLossyCodec,
           container.canWrite(input, channels: channels, sampleRate: sampleRate) {
            return input
        }
        return container.defaultSampleFormat
    }
}

extension AudioContainer {
    /// The sample formats libsndfile can write into this container.
    public func writableSampleFormats(channels: Int = 1, sampleRate: Int = 44100) -> [AudioSampleFormat] {
        let all: [AudioSampleFormat] = [.pcmU8, .pcmS8, .pcm16, .pcm24, .pcm32, .float, .double, .ulaw, .alaw,
                                        .vorbis, .opus, .mp3]
        return all.filter { canWrite($0, channels: channels, sampleRate: sampleRate) }
    }
}
