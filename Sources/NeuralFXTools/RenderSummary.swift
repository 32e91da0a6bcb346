import NeuralFXAudio

/// What a render did, for the one line printed at the end.
public struct RenderSummary: Sendable {
    public let inputPath: String
    public let outputPath: String
    public let modelName: String
    /// The knob values and gains used ("peak=0.4 mode=compress").
    public let settings: String
    public let frames: Int64
    public let sampleRate: Int
    public let channels: Int
    public let modelSampleRate: Double
    public let outputContainer: AudioContainer
    public let outputSampleFormat: AudioSampleFormat
    public let elapsedSeconds: Double
    public let inputPeakDB: Double
    public let inputLoudness: Double
    public let outputPeakDB: Double
    public let outputLoudness: Double
    /// NaN or Inf samples in the input, rendered as silence.
    public let nonFiniteInputSamples: Int
    /// Times an engine reset itself because the model produced non-finite output.
    public let engineResets: Int
    /// Output samples beyond full scale in an integer format (clipped).
    public let clippedSamples: Int
    public let framesWritten: Int64

    public var resampled: Bool { Double(sampleRate) != modelSampleRate }
    public var durationSeconds: Double { Double(frames) / Double(sampleRate) }
    /// Seconds of audio rendered per second of wall time.
    public var speed: Double { durationSeconds / max(elapsedSeconds, 1e-9) }

    public var line: String {
        let layout = channels == 1 ? "mono" : channels == 2 ? "stereo" : "\(channels) channels"
        var text = "\(outputPath): \(fixed(durationSeconds, 2)) s \(layout) at \(sampleRate) Hz"
        if resampled { text += " (resampled to \(Int(modelSampleRate)) Hz for the model and back)" }
        text += ", \(outputContainer) \(outputSampleFormat), model \(modelName)"
        if !settings.isEmpty { text += " (\(settings))" }
        text += ", \(fixed(speed, 1))x real time"
        // The peak-to-loudness ratio shows compression at a glance: it falls
        // when peaks come down more than the loudness does.
        text += "; in: peak \(decibels(inputPeakDB)) dBFS, \(decibels(inputLoudness)) LUFS" + ratio(inputPeakDB, inputLoudness)
        text += "; out: peak \(decibels(outputPeakDB)) dBFS, \(decibels(outputLoudness)) LUFS" + ratio(outputPeakDB, outputLoudness)
        if nonFiniteInputSamples > 0 { text += "; \(nonFiniteInputSamples) NaN/Inf input samples rendered as silence" }
        if engineResets > 0 { text += "; the model produced NaN/Inf and was reset \(engineResets) times" }
        if clippedSamples > 0 { text += "; \(clippedSamples) samples clipped (--subtype float keeps them)" }
        return text
    }
}

/// ", PLR 21.4 dB", or nothing for silence.
private func ratio(_ peak: Double, _ loudness: Double) -> String {
    peak.isFinite && loudness.isFinite ? ", PLR \(fixed(peak - loudness, 1)) dB" : ""
}

private func decibels(_ value: Double) -> String { value.isFinite ? fixed(value, 1) : "-inf" }

/// `value` with `digits` decimals (no Foundation formatting needed).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    var fraction = String(Int(rounded) - whole * Int(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    let sign = value < 0 && rounded > 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
