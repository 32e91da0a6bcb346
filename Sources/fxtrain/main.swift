import ArgumentParser
import Foundation

// Every failure is one line on stderr and a non-zero exit; --help keeps
// ArgumentParser's own output.
do {
    var command = try FXTrain.parseAsRoot()
    try command.run()
} catch let code as ExitCode {
    // The command has already said what went wrong.
    exit(code.rawValue)
} catch {
    if FXTrain.exitCode(for: error) == .success { FXTrain.exit(withError: error) }
    let message = FXTrain.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    FileHandle.standardError.write(Data("fxtrain: error: \(message)\n".utf8))
    exit(FXTrain.exitCode(for: error) == .validationFailure ? 64 : 1)
}
