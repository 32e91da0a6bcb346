import NeuralFXCore
import NeuralFXTraining

/// The per-knob error table of a comparison, as Markdown.
public enum ComparisonReport {
    public static func markdown(_ scores: [SettingScore], schema: KnobSchema) -> String {
        let header = schema.names + ["ESR", "identity ESR", "best gain ESR", "STFT", "loudness error (LU)"]
            + BandErrors.names.map { "error/target \($0)" }
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        func row(_ knobs: [String], _ sums: EnergySums, _ bands: BandErrors, _ stft: Double, _ loudness: Double) -> String {
            let cells = knobs + [format(sums.esr), format(sums.identityESR), format(sums.fixedGainESR),
                                 String(format: "%.3f", stft), String(format: "%+.2f", loudness)]
                + bands.ratios.map { $0.map(format) ?? "-" }
            return "| " + cells.joined(separator: " | ") + " |"
        }
        for s in scores {
            lines.append(row(zip(schema.knobs, s.setting).map { $0.describe($1) }, s.sums, s.bands, s.stft, s.loudnessError))
        }
        let pooled = scores.reduce(EnergySums()) { $0 + $1.sums }
        let n = Double(max(scores.count, 1))
        lines.append(row(["**all**"] + Array(repeating: "", count: max(schema.count - 1, 0)), pooled,
                         scores.reduce(BandErrors()) { $0 + $1.bands },
                         scores.reduce(0) { $0 + $1.stft } / n, scores.reduce(0) { $0 + abs($1.loudnessError) } / n))
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ v: Double) -> String { v < 0.01 ? String(format: "%.2e", v) : String(format: "%.4f", v) }
}
