import Foundation
import NeuralFXCore

/// The Tube-Tech CL 1B captures: one dry `Input.wav` and targets named
/// `target_at_A_re_R_ra_Q_th_T.wav` with attack, release, ratio and
/// threshold normalized to 0...1, written without the decimal point after a
/// leading zero (`025` = 0.25, `05` = 0.5, `0` = 0, `1` = 1).
public enum CL1BFileName {
    public static let knobNames = ["attack", "release", "ratio", "threshold"]
    static let keys = ["at", "re", "ra", "th"]

    /// The four knob values, or nil if `name` is not a CL 1B target name.
    public static func parse(_ name: String) -> [Double]? {
        guard name.hasPrefix("target_"), name.lowercased().hasSuffix(".wav") else { return nil }
        let fields = name.dropFirst("target_".count).dropLast(4).split(separator: "_").map(String.init)
        guard fields.count == 8 else { return nil }
        var values: [Double] = []
        for (i, key) in keys.enumerated() {
            guard fields[2 * i] == key, let v = value(fields[2 * i + 1]) else { return nil }
            values.append(v)
        }
        return values
    }

    /// `025` -> 0.25, `05` -> 0.5, `0` -> 0, `1` -> 1.
    static func value(_ digits: String) -> Double? {
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        if digits.count > 1 && digits.hasPrefix("0") { return Double("0." + digits.dropFirst()) }
        guard let v = Double(digits), v <= 1 else { return nil }
        return v
    }

    public static let schema = KnobSchema(knobNames.enumerated().map { i, name in
        KnobSpec.continuous(name, label: name.capitalized, range: 0...1, default: 0.5, conditioningIndex: i)
    })

    static func loadFolder(_ directory: String, decode: Bool = true) throws -> TrainingDataset {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        guard let inputName = files.first(where: { $0.lowercased() == "input.wav" }) else {
            throw DatasetError("'\(directory)' has target_at_* files but no Input.wav")
        }
        let inputPath = (directory as NSString).appendingPathComponent(inputName)
        let input = try readMonoAudio(inputPath, decode: decode)
        var pairs: [TrainingPair] = []
        for file in files where file != inputName && file.lowercased().hasSuffix(".wav") {
            guard let values = parse(file) else {
                throw DatasetError("'\(file)' is not named target_at_A_re_R_ra_Q_th_T.wav, so its knob values are unknown")
            }
            let targetPath = (directory as NSString).appendingPathComponent(file)
            let target = try readMonoAudio(targetPath, decode: decode)
            guard target.sampleRate == input.sampleRate else {
                throw DatasetError("'\(inputName)' is at \(input.sampleRate) Hz but '\(file)' at \(target.sampleRate) Hz")
            }
            pairs.append(TrainingPair(name: file, inputPath: inputPath, targetPath: targetPath, knobValues: values,
                                      input: input.samples, target: target.samples, sampleRate: input.sampleRate, split: nil))
        }
        guard !pairs.isEmpty else { throw DatasetError("'\(directory)' has Input.wav but no targets") }
        return TrainingDataset(layout: "CL 1B (knobs from file names)", knobs: schema, pairs: pairs)
    }
}
