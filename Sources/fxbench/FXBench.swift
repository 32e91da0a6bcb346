import ArgumentParser
import Foundation
import NeuralFXBench
import NeuralFXCore
import NeuralFXModelFiles

@main
struct FXBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxbench",
        abstract: "Measure how fast networks run: real-time factor per block size on one core, offline throughput, "
            + "FLOPs and the fraction of this machine's measured FMA peak.")

    @Option(name: .customLong("config"),
            help: ArgumentHelp("A named micro-tcn configuration with random weights (repeatable; default: all of "
                + MicroTCNConfig.namedConfigurations.joined(separator: ", ") + " unless --model is given)."))
    var configs: [String] = []

    @Option(name: .customLong("model"), help: "A model file to measure (repeatable).")
    var models: [String] = []

    @Option(name: .customLong("blocks"), parsing: .upToNextOption, help: "Block sizes in frames.")
    var blockSizes: [Int] = [1, 16, 64, 128, 512, 4096]

    @Option(help: "Timed runs per row (the median is reported).")
    var repetitions = 7

    @Option(help: "Seconds of audio per timed run.")
    var seconds = 2.0

    @Flag(help: "Skip the whole-file (offline) row.")
    var noOffline = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .customLong("save-json"), help: "Also write the JSON report to this new file (never overwrites).")
    var jsonPath: String?

    func validate() throws {
        if let bad = blockSizes.first(where: { $0 < 1 || $0 > 1 << 20 }) {
            throw ValidationError("block size \(bad) is outside 1...\(1 << 20)")
        }
        guard repetitions >= 1 && repetitions <= 1000 else { throw ValidationError("--repetitions must be in 1...1000") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        if let path = jsonPath, FileManager.default.fileExists(atPath: path) {
            throw ValidationError("'\(path)' exists; fxbench does not overwrite files")
        }
        for name in configs where MicroTCNConfig.named(name, nparams: 2) == nil {
            throw ValidationError("unknown configuration '\(name)' (known: "
                + "\(MicroTCNConfig.namedConfigurations.joined(separator: ", ")))")
        }
    }

    func run() throws {
        var subjects: [BenchSubject] = []
        let names = configs.isEmpty && models.isEmpty ? MicroTCNConfig.namedConfigurations : configs
        subjects += names.map { BenchSubject.microTCN($0)! }
        for path in models {
            let model = try ModelFile.load(path: path)
            var conditioning = [Float](repeating: 0, count: model.blueprint.conditioningSize)
            if !conditioning.isEmpty {
                model.knobs.defaults.withUnsafeBufferPointer { d in
                    model.knobs.conditioning(for: d.baseAddress!, into: &conditioning)
                }
            }
            subjects.append(BenchSubject(name: model.name, blueprint: model.blueprint, sampleRate: model.sampleRate,
                                         conditioning: conditioning))
        }
        let peak = PeakThroughput.measureGFLOPs()
        let bench = StreamingBenchmark(settings: BenchSettings(audioSeconds: seconds, repetitions: repetitions))
        var reports: [ModelReport] = []
        for subject in subjects {
            if !json { FileHandle.standardError.write(Data("measuring \(subject.name)...\n".utf8)) }
            reports.append(bench.measure(subject, blockSizes: blockSizes, offline: !noOffline))
        }
        let report = BenchReport(machine: MachineReport(cpu: MachineReport.cpuName, vectorInstructions: PeakThroughput.vectorInstructions,
                                                        peakGFLOPs: peak),
                                 audioSeconds: seconds, repetitions: repetitions, models: reports)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let encoded = try encoder.encode(report)
        if let path = jsonPath {
            do { try encoded.write(to: URL(fileURLWithPath: path), options: .withoutOverwriting) } catch {
                throw BenchError("cannot write '\(path)': \(error.localizedDescription)")
            }
        }
        print(json ? String(decoding: encoded, as: UTF8.self) : report.table)
    }
}

/// A one-line failure reported to the user.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
