import CSndFile

/// The container of an audio file (libsndfile's "major format").
public enum AudioContainer: Equatable, Hashable, Sendable, CustomStringConvertible {
    case wav, aiff, flac, ogg, mp3, caf, w64, rf64, au
    /// Anything else libsndfile reads, by its libsndfile name.
    case other(String)

    /// The containers `AudioFileWriter` picks from a file extension.
    public static let byExtension: [String: AudioContainer] = [
        "wav": .wav, "flac": .flac, "aiff": .aiff, "aif": .aiff, "ogg": .ogg, "oga": .ogg, "mp3": .mp3,
        "caf": .caf, "w64": .w64, "rf64": .rf64, "au": .au,
    ]

    /// The container named by a path's extension, if it is one we write.
    public static func forPath(_ path: String) -> AudioContainer? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        return byExtension[path[path.index(after: dot)...].lowercased()]
    }

    public var description: String {
        switch self {
        case .wav: return "WAV"
        case .aiff: return "AIFF"
        case .flac: return "FLAC"
        case .ogg: return "Ogg"
        case .mp3: return "MP3"
        case .caf: return "CAF"
        case .w64: return "W64"
        case .rf64: return "RF64"
        case .au: return "AU"
        case let .other(name): return name
        }
    }

    var code: Int32? {
        switch self {
        case .wav: return Int32(SF_FORMAT_WAV)
        case .aiff: return Int32(SF_FORMAT_AIFF)
        case .flac: return Int32(SF_FORMAT_FLAC)
        case .ogg: return Int32(SF_FORMAT_OGG)
        case .mp3: return Int32(SF_FORMAT_MPEG)
        case .caf: return Int32(SF_FORMAT_CAF)
        case .w64: return Int32(SF_FORMAT_W64)
        case .rf64: return Int32(SF_FORMAT_RF64)
        case .au: return Int32(SF_FORMAT_AU)
        case .other: return nil
        }
    }

    init(code: Int32) {
        let major = code & Int32(SF_FORMAT_TYPEMASK)
        let known: [AudioContainer] = [.wav, .aiff, .flac, .ogg, .mp3, .caf, .w64, .rf64, .au]
        if let c = known.first(where: { $0.code == major }) {
            self = c
        } else if major == Int32(SF_FORMAT_WAVEX) {
            self = .wav
        } else {
            self = .other(formatName(command: SFC_GET_FORMAT_MAJOR_COUNT, get: SFC_GET_FORMAT_MAJOR, code: major)
                          ?? "format 0x\(String(major, radix: 16))")
        }
    }

    /// The sample format written when the caller expresses no preference and
    /// the input's cannot be kept: lossless containers get 32-bit float (the
    /// engine's output, unclipped) or 24-bit where float is impossible.
    public var defaultSampleFormat: AudioSampleFormat {
        switch self {
        case .flac: return .pcm24
        case .ogg: return .vorbis
        case .mp3: return .mp3
        default: return .float
        }
    }

    /// Whether libsndfile can write this sample format into this container.
    public func canWrite(_ sampleFormat: AudioSampleFormat, channels: Int = 1, sampleRate: Int = 44100) -> Bool {
        guard let major = code, let minor = sampleFormat.code else { return false }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = major | minor
        return sf_format_check(&info) != 0
    }
}

/// How samples are stored in a file (libsndfile's "subtype").
public enum AudioSampleFormat: Equatable, Hashable, Sendable, CustomStringConvertible {
    case pcmS8, pcmU8, pcm16, pcm24, pcm32, float, double, ulaw, alaw, vorbis, opus, mp3
    /// Anything else libsndfile reads, by its libsndfile name.
    case other(String)

    /// Names accepted on the command line (`--subtype pcm24`).
    public static let byName: [String: AudioSampleFormat] = [
        "pcm8": .pcmS8, "pcms8": .pcmS8, "pcmu8": .pcmU8, "pcm16": .pcm16, "pcm24": .pcm24, "pcm32": .pcm32,
        "float": .float, "float32": .float, "double": .double, "float64": .double,
        "ulaw": .ulaw, "alaw": .alaw, "vorbis": .vorbis, "opus": .opus, "mp3": .mp3,
    ]

    public static func named(_ name: String) -> AudioSampleFormat? { byName[name.lowercased()] }

    public var name: String {
        switch self {
        case .pcmS8: return "pcm8"
        case .pcmU8: return "pcmu8"
        case .pcm16: return "pcm16"
        case .pcm24: return "pcm24"
        case .pcm32: return "pcm32"
        case .float: return "float"
        case .double: return "double"
        case .ulaw: return "ulaw"
        case .alaw: return "alaw"
        case .vorbis: return "vorbis"
        case .opus: return "opus"
        case .mp3: return "mp3"
        case let .other(name): return name
        }
    }

    public var description: String { name }

    /// Vorbis, Opus, MP3: perceptual codecs, not sample formats one keeps
    /// across containers.
    public var isLossyCodec: Bool { self == .vorbis || self == .opus || self == .mp3 }

    /// True for integer PCM, whose range ends at full scale: louder samples clip.
    public var clipsAtFullScale: Bool {
        switch self {
        case .float, .double: return false
        default: return true
        }
    }

    var code: Int32? {
        switch self {
        case .pcmS8: return Int32(SF_FORMAT_PCM_S8)
        case .pcmU8: return Int32(SF_FORMAT_PCM_U8)
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .pcm24: return Int32(SF_FORMAT_PCM_24)
        case .pcm32: return Int32(SF_FORMAT_PCM_32)
        case .float: return Int32(SF_FORMAT_FLOAT)
        case .double: return Int32(SF_FORMAT_DOUBLE)
        case .ulaw: return Int32(SF_FORMAT_ULAW)
        case .alaw: return Int32(SF_FORMAT_ALAW)
        case .vorbis: return Int32(SF_FORMAT_VORBIS)
        case .opus: return Int32(SF_FORMAT_OPUS)
        case .mp3: return Int32(SF_FORMAT_MPEG_LAYER_III)
        case .other: return nil
        }
    }

    init(code: Int32) {
        let minor = code & Int32(SF_FORMAT_SUBMASK)
        let known: [AudioSampleFormat] = [.pcmS8, .pcmU8, .pcm16, .pcm24, .pcm32, .float, .double, .ulaw, .alaw,
                                          .vorbis, .opus, .mp3]
        if let f = known.first(where: { $0.code == minor }) {
            self = f
        } else {
            self = .other(formatName(command: SFC_GET_FORMAT_SUBTYPE_COUNT, get: SFC_GET_FORMAT_SUBTYPE, code: minor)
                          ?? "subtype 0x\(String(minor, radix: 16))")
        }
    }
}

/// libsndfile's own name for a major format or subtype code.
private func formatName(command countCommand: Int, get: Int, code: Int32) -> String? {
    var count: Int32 = 0
    sf_command(nil, Int32(countCommand), &count, Int32(MemoryLayout<Int32>.size))
    for i in 0..<count {
        var info = SF_FORMAT_INFO()
        info.format = i
        sf_command(nil, Int32(get), &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        if info.format == code, let name = info.name { return String(cString: name) }
    }
    return nil
}
