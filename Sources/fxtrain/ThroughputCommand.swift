import ArgumentParser
import Foundation
import NeuralFXCore
import NeuralFXTraining

/// Measures training throughput (forward + backward + optimizer) on random
/// data, for comparison with other trainers at the same shape.
struct ThroughputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput", abstract: "Measure training samples per second on random data.")

    @Option(help: "Architecture: utcn-100-c, utcn-300-c, utcn-1000-c or tcn-324 (random weights), or NAM's \(WaveNetPreset.names.joined(separator: ", ")) or \(LSTMConfig.name) (NAM's 3 x 18, burn-in \(LSTMConfig.nam.burnIn)) (their training start).")
    var arch = "utcn-300-c"
    @Option(help: "Knob inputs (micro-tcn).") var nparams = 2
    @Option(name: .customLong("batch"), help: "Chunks per batch.") var batchSize = 8
    @Option(name: .customLong("chunk"), help: "Output samples per chunk.") var chunkLength = 8192
    @Option(help: "Timed steps (after one warm-up step).") var steps = 5
    @Option(help: "Worker threads for the batch.") var threads = 2
    @Option(help: "Processes sharing the batch under mpirun, for the bytes each exchanges per step.") var processes = 2

    func run() throws {
        guard processes >= 1 && processes <= batchSize else { throw ValidationError("--processes must be in 1...--batch") }
        let net: any TrainableNetwork, knobs: Int
        var microTCN: TrainingNetwork<Float>?
        if arch == LSTMConfig.name {
            let config = LSTMConfig.nam
            net = LSTMTrainingNetwork<Float>(config: config, batchSize: batchSize, outputLength: chunkLength, threads: threads,
                                             weights: config.trainingStart(seed: 1))
            knobs = 0
        } else if let preset = WaveNetPreset(rawValue: arch) {
            let config = preset.config()
            net = WaveNetTrainingNetwork<Float>(config: config, batchSize: batchSize, outputLength: chunkLength, threads: threads,
                                                weights: config.trainingStart(seed: 1))
            knobs = 0
        } else {
            guard let config = MicroTCNConfig.named(arch, nparams: nparams) else { throw ValidationError("unknown architecture '\(arch)'") }
            microTCN = TrainingNetwork<Float>(config: config, batchSize: batchSize, outputLength: chunkLength, threads: threads,
                                              weights: .random(config, seed: 1))
            net = microTCN!
            knobs = nparams
        }
        var rng = SplitMix64(seed: 2)
        for b in 0..<batchSize {
            for t in 0..<net.inputLength { net.input(b)[t] = rng.nextFloat(in: -0.5...0.5) }
            for k in 0..<knobs { net.knobs(b)[k] = rng.nextUnitFloat() }
        }
        var adam = AdamOptimizer(parameterCount: net.parameters.count, learningRate: 1e-4)
        let loss = LossFunction([.l1])
        let target = [Float](repeating: 0, count: chunkLength)
        func step() {
            net.trainingForward()
            for b in 0..<batchSize {
                _ = loss.evaluate(prediction: net.output(b), target: target, count: chunkLength, gradient: net.outputGradient(b))
            }
            net.backward()
            adam.update(&net.parameters, gradient: net.gradient)
        }
        step()
        let clock = ContinuousClock()
        let d = clock.measure { for _ in 0..<steps { step() } }
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        let samples = Double(steps * batchSize * chunkLength)
        print(String(format: "fxtrain %@ batch %d chunk %d threads %d: %.0f samples/s (%.3f s/step)",
                     arch, batchSize, chunkLength, threads, samples / seconds, seconds / Double(steps)))
        guard let net = microTCN else {
            let burnIn = net.inputLength - chunkLength
            print("\(net.parameters.count) parameters (NAM's models train in one process)"
                  + (arch == LSTMConfig.name ? "; each chunk also runs \(burnIn) burn-in samples, not counted above" : ""))
            return
        }
        let one = net.exchangedBytesPerStep(processes: batchSize)
        print("\(net.layout.count) parameters; under mpirun each of \(processes) processes receives "
              + "\(net.exchangedBytesPerStep(processes: processes)) bytes per step (\(one / (batchSize - 1)) per batch item), "
              + "or \(net.exchangedBytesPerStep(processes: processes, reduction: .sum)) with --reduction sum")
    }
}
