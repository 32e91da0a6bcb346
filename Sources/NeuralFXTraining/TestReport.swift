import Foundation
import NeuralFXAudio

/// Held-out scores of a model, per knob setting and overall.
public struct TestMetrics: Codable, Equatable, Sendable {
    public var setting: String
    public var l1: Double
    /// Error energy over target energy, pooled over the setting's audio.
    public var esr: Double
    public var stft: Double
    /// Integrated loudness of the prediction minus that of the target, LUFS.
    public var loudnessError: Double
    /// ESR of passing the input through unchanged, for comparison.
    public var identityESR: Double
    /// ESR of the best constant gain over this audio (least squares): the
    /// bar a model must clear to have learned more than a level change.
    public var fixedGainESR: Double
    /// Error energy over the target's energy per band (`BandErrors`).
    public var bands: BandErrors
    public var seconds: Double

    public var line: String {
        String(format: "%@: L1 %.4f  ESR %.4f (identity %.4f, best fixed gain %.4f)  STFT %.4f  loudness %+.2f LU  (%.1f s)",
               setting, l1, esr, identityESR, fixedGainESR, stft, loudnessError, seconds)
            + "; error/target by band: " + bands.summary
    }

    var dictionary: [String: Any] {
        var bandRatios: [String: Double] = [:]
        for (name, r) in zip(BandErrors.names, bands.ratios) { if let r { bandRatios[name] = r } }
        return ["setting": setting, "l1": l1, "esr": esr, "stft": stft, "loudness_error_lu": loudnessError.isFinite ? loudnessError : 0,
                "identity_esr": identityESR, "fixed_gain_esr": fixedGainESR, "band_error_ratios": bandRatios, "seconds": seconds]
    }
}

public struct TestReport: Sendable {
    public var perSetting: [TestMetrics]
    public var overall: TestMetrics
    /// ESR of the best gain per knob setting, pooled: a static gain that
    /// knows the knobs, a stronger baseline than one gain for everything.
    public var perSettingGainESR: Double
    /// A test clip for the target-versus-prediction plot.
    public var example: Trainer.SegmentScore?
}

/// Energy sums of one stretch of test audio, from which the pooled ratios
/// (model, identity and best-fixed-gain ESR) of any group of stretches follow.
public struct EnergySums: Sendable {
    public var error = 0.0, target = 0.0, identityError = 0.0, inputTarget = 0.0, input = 0.0

    public init() {}

    public init<C: Collection>(prediction: [Float], target t: [Float], input x: C) where C.Element == Float {
        for (i, xv) in zip(t.indices, x) {
            let p = Double(prediction[i]), tv = Double(t[i]), xd = Double(xv)
            error += (p - tv) * (p - tv)
            target += tv * tv
            identityError += (xd - tv) * (xd - tv)
            inputTarget += xd * tv
            input += xd * xd
        }
    }

    public static func + (a: EnergySums, b: EnergySums) -> EnergySums {
        var s = a
        s.error += b.error; s.target += b.target; s.identityError += b.identityError
        s.inputTarget += b.inputTarget; s.input += b.input
        return s
    }

    private var safeTarget: Double { max(target, .leastNormalMagnitude) }
    public var esr: Double { error / safeTarget }
    public var identityESR: Double { identityError / safeTarget }
    public var fixedGainESR: Double { fixedGainResidual / safeTarget }
    /// Residual energy of the least-squares gain `inputTarget / input`.
    public var fixedGainResidual: Double { input > 0 ? max(target - inputTarget * inputTarget / input, 0) : target }
}

extension Trainer {
    /// Scores the best weights on the test split.
    public func testReport() -> TestReport {
        let scores = evaluate(best, on: plan.segments(.test))
        let l1 = LossFunction([.l1]), stft = LossFunction([.stft(sizes: [1024])])
        let rate = Double(dataset.sampleRate)
        var bySetting: [String: [(TestMetrics, EnergySums)]] = [:]
        var order: [String] = []
        for s in scores {
            let n = s.target.count
            let setting = dataset.settingDescription(dataset.pairs[s.segment.pair])
            let sums = EnergySums(prediction: s.prediction, target: s.target,
                                  input: dataset.pairs[s.segment.pair].input[s.segment.start..<(s.segment.start + n)])
            let metrics = TestMetrics(
                setting: setting,
                l1: Double(l1.evaluate(prediction: s.prediction, target: s.target, count: n, gradient: nil)),
                esr: sums.esr,
                stft: Double(stft.evaluate(prediction: s.prediction, target: s.target, count: n, gradient: nil)),
                loudnessError: loudness(s.prediction, rate) - loudness(s.target, rate),
                identityESR: sums.identityESR, fixedGainESR: sums.fixedGainESR,
                bands: BandErrors(prediction: s.prediction, target: s.target, sampleRate: rate),
                seconds: Double(n) / rate)
            if bySetting[setting] == nil { order.append(setting) }
            bySetting[setting, default: []].append((metrics, sums))
        }
        let perSetting = order.map { combine(bySetting[$0]!, name: $0) }
        let all = order.flatMap { bySetting[$0]! }
        let overall = combine(all, name: "overall")
        let residual = order.reduce(0.0) { total, name in
            total + bySetting[name]!.reduce(EnergySums()) { $0 + $1.1 }.fixedGainResidual
        }
        let energy = all.reduce(0.0) { $0 + $1.1.target }
        return TestReport(perSetting: perSetting, overall: overall,
                          perSettingGainESR: residual / max(energy, .leastNormalMagnitude), example: scores.first)
    }

    private func loudness(_ x: [Float], _ rate: Double) -> Double {
        let meter = LoudnessMeter(sampleRate: rate, channels: 1)
        x.withUnsafeBufferPointer { meter.process($0.baseAddress!, frames: x.count) }
        return meter.integratedLoudness
    }

    private func combine(_ m: [(TestMetrics, EnergySums)], name: String) -> TestMetrics {
        let total = m.reduce(0) { $0 + $1.0.seconds }
        func avg(_ f: (TestMetrics) -> Double) -> Double {
            let finite = m.map(\.0).filter { f($0).isFinite }
            let w = finite.reduce(0) { $0 + $1.seconds }
            return w > 0 ? finite.reduce(0) { $0 + f($1) * $1.seconds } / w : .nan
        }
        let sums = m.reduce(EnergySums()) { $0 + $1.1 }
        return TestMetrics(setting: name, l1: avg(\.l1), esr: sums.esr, stft: avg(\.stft), loudnessError: avg(\.loudnessError),
                           identityESR: sums.identityESR, fixedGainESR: sums.fixedGainESR,
                           bands: m.reduce(BandErrors()) { $0 + $1.0.bands }, seconds: total)
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
            "learning_rate_decay_per_epoch": settings.learningRateDecay.map { Double($0) as Any } ?? NSNull(),
            "training_seconds": history.last?.seconds ?? 0,
            "best_validation_loss": bestValidation < Double.greatestFiniteMagnitude ? bestValidation : 0,
            "dataset_layout": dataset.layout, "split_rule": plan.rule, "dataset_pairs": dataset.pairs.count,
        ]
        s["test_overall"] = report.overall.dictionary
        s["test_per_setting_gain_esr"] = report.perSettingGainESR
        s["test_per_setting"] = report.perSetting.map(\.dictionary)
        s["data_checks"] = checks.map { c -> [String: Any] in
            ["pair": c.name, "latency_removed": c.latency, "polarity_inverted": c.polarityInverted]
        }
        return s
    }
}
