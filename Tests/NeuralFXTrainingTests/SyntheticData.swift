import NeuralFXCore
import NeuralFXTraining
import RealModule

/// Small synthesized datasets: dynamic test material through a static soft
/// clipper whose drive is the knob, so the right answer is known.
enum SyntheticData {
    /// Tone and noise bursts at levels from -30 to 0 dBFS.
    static func material(seconds: Double, sampleRate: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let n = Int(seconds * Double(sampleRate))
        var x = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let length = min(n - i, sampleRate / 20 + Int(rng.next() % UInt64(sampleRate / 5)))
            let level = Float.pow(10, -rng.nextFloat(in: 0...30) / 20)
            let frequency = rng.nextFloat(in: 60...2000) / Float(sampleRate)
            let noisy = rng.next() % 3 == 0
            for k in 0..<length {
                let envelope = min(Float(k) / 64, 1) * min(Float(length - k) / 64, 1)
                let v = noisy ? rng.nextFloat(in: -1...1) : Float.sin(2 * .pi * frequency * Float(k))
                x[i + k] = 0.9 * level * envelope * v
            }
            i += length
        }
        return x
    }

    static func softClip(_ x: [Float], drive: Double) -> [Float] {
        let g = Float(1 + 9 * drive)
        return x.map { Float.tanh(g * $0) / g.squareRoot() }
    }

    static func clipperDataset(pairs: Int = 3, seconds: Double = 2, sampleRate: Int = 8000) -> TrainingDataset {
        let schema = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0)])
        let list = (0..<pairs).map { p -> TrainingPair in
            let drive = pairs == 1 ? 0.5 : Double(p) / Double(pairs - 1)
            let input = material(seconds: seconds, sampleRate: sampleRate, seed: UInt64(p + 1))
            return TrainingPair(name: "pair\(p)", inputPath: "", targetPath: "", knobValues: [drive], input: input,
                                target: softClip(input, drive: drive), sampleRate: sampleRate, split: nil)
        }
        return TrainingDataset(layout: "synthetic", knobs: schema, pairs: list)
    }

    /// The clipper dataset behind a level knob (an output gain of -30...0 dB
    /// that feeds no conditioning input), each pair at another level.
    static func leveledClipperDataset() -> TrainingDataset {
        var data = clipperDataset()
        data.knobs = KnobSchema(data.knobs.knobs + [
            .continuous("level", label: "Level", range: 0...1, default: 1, conditioningIndex: nil, outputGainDecibels: -30...0),
        ])
        for i in data.pairs.indices {
            let level = [0.1, 0.5, 0.9][i % 3]
            data.pairs[i].knobValues.append(level)
            let gain = Float.pow(10, Float(-30 + 30 * level) / 20)
            data.pairs[i].target = data.pairs[i].target.map { $0 * gain }
        }
        return data
    }

    static func smallSettings() -> TrainingSettings {
        var s = TrainingSettings(architecture: "small",
                                 config: MicroTCNConfig(nparams: 1, nblocks: 3, kernelSize: 3, dilationGrowth: 4, channelWidth: 8))
        s.batchSize = 4
        s.chunkLength = 512
        s.validationInterval = 5
        s.learningRate = 3e-3
        s.evaluationSeconds = 1
        return s
    }
}
