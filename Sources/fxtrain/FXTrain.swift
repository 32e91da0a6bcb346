import ArgumentParser

/// `fxtrain`: train effect models from paired recordings (the default), and
/// render paired datasets from the reference devices.
struct FXTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxtrain",
        abstract: "Train knob-conditioned micro-tcn models from paired recordings, and render datasets from the reference devices.",
        subcommands: [TrainCommand.self, DatasetCommand.self, EvaluateCommand.self, ThroughputCommand.self, CaptureCommand.self],
        defaultSubcommand: TrainCommand.self)
}
