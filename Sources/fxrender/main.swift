import ArgumentParser
import Foundation

// Every failure is one line on stderr and a non-zero exit; --help and
// --version keep ArgumentParser's own output.
do {
    var command = try FXRender.parseAsRoot()
    try command.run()
} catch {
    if FXRender.exitCode(for: error) == .success { FXRender.exit(withError: error) }
    let message = oneLine(FXRender.message(for: error))
    FileHandle.standardError.write(Data("fxrender: error: \(message)\n".utf8))
    exit(error is UsageError || FXRender.exitCode(for: error) == .validationFailure ? 64 : 1)
}

func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map(String.init).joined(separator: " ")
}
