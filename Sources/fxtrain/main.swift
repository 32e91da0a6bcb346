import ArgumentParser
import Foundation
import NeuralFXDistributed

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
    // Under mpirun every rank parses the same arguments: one of them says what is wrong.
    let rank = Communicator.launchedRank(ProcessInfo.processInfo.environment) ?? 0
    let message = FXTrain.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    if rank == 0 { FileHandle.standardError.write(Data("fxtrain: error: \(message)\n".utf8)) }
    exit(FXTrain.exitCode(for: error) == .validationFailure ? 64 : 1)
}
