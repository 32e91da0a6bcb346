import ArgumentParser

@main
struct FXTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxtrain",
        abstract: "Train knob-conditioned micro-tcn models from paired recordings.",
        subcommands: [TrainCommand.self, ThroughputCommand.self],
        defaultSubcommand: TrainCommand.self)
}
