import Foundation
import NeuralFXAudio

/// Held-out scores of a model, per knob setting and overall.
public struct TestMetrics: Codable, Equatable, Sendable {
    public var setting: String
    public var l1: Double
    public var esr: Double
    public var stft: Double
    /// Integrated loudness of the prediction minus that of the target, LUFS.
    public var loudnessError: Double
    /// ESR of passing the input through unchanged, for comparison.
    public var identityESR: Double
    public var seconds: Double

    public var line: String {
        String(format: "%@: L1 %.4f  ESR %.4f (identity %.4f)  STFT %.4f  loudness %+.2f LU  (%.1f s)",
               setting, l1, esr, identityESR, stft, loudnessError, seconds)
    }

    var dictionary: [String: Any] {
        ["setting": setting, "l1": l1, "esr": esr, "stft": stft, "loudness_error_lu": loudnessError.isFinite ? loudnessError : 0,
         "identity_esr": identityESR, "seconds": seconds]
    }
}

public struct TestReport: Sendable {
    public var perSetting: [TestMetrics]
    public var overall: TestMetrics
    /// A test clip for the target-versus-prediction plot.
    public var example: Trainer.SegmentScore?
}

extension Trainer {
    /// Scores the best weights on the test split.
    public func testReport() -> TestReport {
        let scores = evaluate(bestWeights, on: plan.segments(.test))
        let l1 = LossFunction([.l1]), esr = LossFunction([.esr(preEmphasis: nil)]), stft = LossFunction([.stft(sizes: [1024])])
        let rate = Double(dataset.sampleRate)
        var bySetting: [String: [TestMetrics]] = [:]
        var order: [String] = []
        var all: [TestMetrics] = []
        for s in scores {
            let n = s.target.count
            let input = Array(dataset.pairs[s.segment.pair].input[s.segment.start..<(s.segment.start + n)])
            let metrics = TestMetrics(
                setting: dataset.settingDescription(dataset.pairs[s.segment.pair]),
                l1: Double(l1.evaluate(prediction: s.prediction, target: s.target, count: n, gradient: nil)),
                esr: Double(esr.evaluate(prediction: s.prediction, target: s.target, count: n, gradient: nil)),
                stft: Double(stft.evaluate(prediction: s.prediction, target: s.target, count: n, gradient: nil)),
                loudnessError: loudness(s.prediction, rate) - loudness(s.target, rate),
                identityESR: Double(esr.evaluate(prediction: input, target: s.target, count: n, gradient: nil)),
                seconds: Double(n) / rate)
            if bySetting[metrics.setting] == nil { order.append(metrics.setting) }
            bySetting[metrics.setting, default: []].append(metrics)
            all.append(metrics)
        }
        let perSetting = order.map { mean(bySetting[$0]!, name: $0) }
        return TestReport(perSetting: perSetting, overall: mean(all, name: "overall"), example: scores.first)
    }

    private func loudness(_ x: [Float], _ rate: Double) -> Double {
        let meter = LoudnessMeter(sampleRate: rate, channels: 1)
        x.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: x.count) }
        return meter.integratedLoudness
    }

    private func mean(_ m: [TestMetrics], name: String) -> TestMetrics {
        let total = m.reduce(0) { $0 + $1.seconds }
        func avg(_ f: (TestMetrics) -> Double) -> Double {
            let finite = m.filter { f($0).isFinite }
            let w = finite.reduce(0) { $0 + $1.seconds }
            return w > 0 ? finite.reduce(0) { $0 + f($1) * $1.seconds } / w : .nan
        }
        return TestMetrics(setting: name, l1: avg(\.l1), esr: avg(\.esr), stft: avg(\.stft), loudnessError: avg(\.loudnessError),
                           identityESR: avg(\.identityESR), seconds: total)
    }

    /// Facts about the run for the model file's metadata.
    public func provenance(report: TestReport, checks: [PairCheck]) -> [String: Any] {
        var s: [String: Any] = [
            "trainer": "fxtrain (NeuralFX)", "architecture": settings.architecture,
            "learning_rate": Double(settings.learningRate), "final_learning_rate": Double(adam.learningRate),
            "batch_size": settings.batchSize, "chunk_length": settings.chunkLength, "loss": settings.loss,
            "seed": String(settings.seed), "validation_interval": settings.validationInterval,
            "weight_decay": Double(settings.weightDecay), "gradient_clip": Double(settings.gradientClip),
            "plateau_patience": settings.plateauPatience, "steps": step, "epochs": epoch,
            "training_seconds": history.last?.seconds ?? 0,
            "best_validation_loss": bestValidation < Double.greatestFiniteMagnitude ? bestValidation : 0,
            "dataset_layout": dataset.layout, "split_rule": plan.rule, "dataset_pairs": dataset.pairs.count,
        ]
        s["test_overall"] = report.overall.dictionary
        s["test_per_setting"] = report.perSetting.map(\.dictionary)
        s["data_checks"] = checks.map { c -> [String: Any] in
            ["pair": c.name, "latency_removed": c.latency, "polarity_inverted": c.polarityInverted]
        }
        return s
    }
}
