import ArgumentParser

/// `fxtrain`: datasets from the reference devices, and training.
struct FXTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxtrain",
        abstract: "Render paired datasets from the reference devices and train effect models.",
        subcommands: [DatasetCommand.self])
}
