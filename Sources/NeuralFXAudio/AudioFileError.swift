import Foundation

/// Why an audio file could not be read or written. Each reads as one line.
public enum AudioFileError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    /// libsndfile refused the file: corrupt, truncated, unreadable or an unknown format.
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case readFailed(path: String, reason: String)
    case unsupportedExtension(path: String)
    case unsupportedSampleFormat(container: AudioContainer, sampleFormat: AudioSampleFormat, supported: [AudioSampleFormat])
    case cannotCreate(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            return "'\(path)': no such file"
        case let .isDirectory(path):
            return "'\(path)' is a directory, not an audio file"
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .empty(path):
            return "'\(path)' contains no audio (0 frames)"
        case let .readFailed(path, reason):
            return "reading '\(path)' failed: \(reason)"
        case let .unsupportedExtension(path):
            let known = AudioContainer.byExtension.keys.sorted().map { "." + $0 }.joined(separator: " ")
            return "cannot tell the output format from '\(path)'; use one of the extensions \(known)"
        case let .unsupportedSampleFormat(container, sampleFormat, supported):
            return "\(container) cannot store \(sampleFormat) samples; it can store "
                + supported.map(\.name).joined(separator: ", ")
        case let .cannotCreate(path, reason):
            return "cannot create '\(path)': \(reason)"
        case let .writeFailed(path, reason):
            return "writing '\(path)' failed: \(reason)"
        }
    }
}

/// libsndfile reports one sentence per error, sometimes across lines: keep
/// it to one and drop a trailing period so it fits after a colon.
func oneLine(_ message: String) -> String {
    var s = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: " ")
    while s.hasSuffix(".") { s.removeLast() }
    return s.isEmpty ? "unknown error" : s
}
