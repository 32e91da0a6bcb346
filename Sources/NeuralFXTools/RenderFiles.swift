import Foundation
import NeuralFXAudio

/// Why a render was refused before it started. Each reads as one line.
public enum RenderError: Error, Equatable, CustomStringConvertible {
    case outputExists(path: String)
    case outputIsInput(input: String, output: String)
    case outputIsDirectory(path: String)
    case outputDirectoryMissing(path: String)
    case cannotMove(path: String, reason: String)

    public var description: String {
        switch self {
        case let .outputExists(path):
            return "'\(path)' already exists (use --force to replace it)"
        case let .outputIsInput(input, output):
            return "output '\(output)' is the input file '\(input)'; choose another output"
        case let .outputIsDirectory(path):
            return "output '\(path)' is a directory"
        case let .outputDirectoryMissing(path):
            return "cannot write '\(path)': its directory does not exist"
        case let .cannotMove(path, reason):
            return "cannot move the rendered file to '\(path)': \(reason)"
        }
    }
}

/// An input opened for reading and an output checked for writing: everything
/// about the files that can be refused before a model is even loaded.
public final class RenderFiles {
    public let reader: AudioFileReader
    public let outputPath: String
    public let outputContainer: AudioContainer
    public let outputSampleFormat: AudioSampleFormat
    public let force: Bool

    /// Opens `input` and checks `output`: its format (from the extension), its
    /// sample format (`sampleFormat`, else the input's when the container
    /// stores it, else the container's default), that it is not the input
    /// (also through links), and that it does not exist unless `force`.
    public init(input: String, output: String, sampleFormat requested: AudioSampleFormat? = nil,
                force: Bool = false) throws {
        reader = try AudioFileReader(path: input)
        if reader.frames == 0 { throw AudioFileError.empty(path: input) }
        outputPath = output
        self.force = force
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue { throw RenderError.outputIsDirectory(path: output) }
        guard let container = AudioContainer.forPath(output) else {
            throw AudioFileError.unsupportedExtension(path: output)
        }
        outputContainer = container
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw RenderError.outputDirectoryMissing(path: output)
        }
        if exists || isSymbolicLink(output) {
            if sameFile(input, output) { throw RenderError.outputIsInput(input: input, output: output) }
            if !force { throw RenderError.outputExists(path: output) }
        }
        outputSampleFormat = try AudioFileWriter.sampleFormat(requested: requested, input: reader.sampleFormat,
                                                              container: container, channels: reader.channels,
                                                              sampleRate: reader.sampleRate)
    }
}

/// True when both paths reach the same file (symlinks followed, hard links too).
func sameFile(_ a: String, _ b: String) -> Bool {
    var sa = stat(), sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
}

private func isSymbolicLink(_ path: String) -> Bool {
    var s = stat()
    return lstat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFLNK
}
