import Foundation
import NeuralFXTraining

/// The plots of docs/models.md: a reference device and its model on the
/// same clip.
public enum ComparisonPlots {
    static let deviceColor = "#222222", modelColor = "#ff7f0e"

    /// Both outputs over the first `seconds` of the clip.
    public static func waveform(device: [Float], model: [Float], sampleRate: Double, seconds: Double, title: String) -> String {
        let n = min(device.count, model.count, Int(seconds * sampleRate))
        let step = max(1, n / 4000)
        func points(_ x: [Float]) -> [(Double, Double)] {
            stride(from: 0, to: n, by: step).map { (Double($0) / sampleRate, Double(x[$0])) }
        }
        return SVGPlot.chart(title: title, xLabel: "seconds", yLabel: "amplitude", series: [
            .init(name: "reference device", color: deviceColor, points: points(device)),
            .init(name: "model", color: modelColor, points: points(model)),
        ])
    }

    /// Output level over input level in 10 ms windows, in dB: the gain
    /// reduction a compressor applies (windows quieter than -60 dBFS are left out).
    public static func gainReduction(input: [Float], device: [Float], model: [Float], sampleRate: Double, title: String) -> String {
        func curve(_ output: [Float]) -> [(Double, Double)] {
            GainCurve.points(input: input, output: output, sampleRate: sampleRate, window: 0.01).map { ($0.seconds, $0.decibels) }
        }
        return SVGPlot.chart(title: title, xLabel: "seconds", yLabel: "output / input (dB)", series: [
            .init(name: "reference device", color: deviceColor, points: curve(device)),
            .init(name: "model", color: modelColor, points: curve(model)),
        ])
    }

    /// Average magnitude spectra (Hann windows of 4096, half overlapped), in dB.
    public static func spectrum(device: [Float], model: [Float], sampleRate: Double, title: String) -> String {
        SVGPlot.chart(title: title, xLabel: "frequency (Hz)", yLabel: "level (dB)", series: [
            .init(name: "reference device", color: deviceColor, points: averageSpectrum(device, sampleRate: sampleRate)),
            .init(name: "model", color: modelColor, points: averageSpectrum(model, sampleRate: sampleRate)),
        ], logX: true)
    }

    /// Frequency and level in dB of each bin from 20 Hz up, averaged over frames.
    public static func averageSpectrum(_ x: [Float], sampleRate: Double, size: Int = 4096) -> [(Double, Double)] {
        let fft = FFT<Double>(size: size)
        let window = (0..<size).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(size)) }
        var power = [Double](repeating: 0, count: size / 2 + 1)
        var re = [Double](repeating: 0, count: size), im = re
        var frames = 0
        var start = 0
        while start + size <= x.count {
            for k in 0..<size { re[k] = Double(x[start + k]) * window[k]; im[k] = 0 }
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in fft.transform(real: r.baseAddress!, imaginary: i.baseAddress!, sign: -1) }
            }
            for k in power.indices { power[k] += re[k] * re[k] + im[k] * im[k] }
            frames += 1
            start += size / 2
        }
        let norm = 1 / (Double(max(frames, 1)) * window.reduce(0, +) * window.reduce(0, +) / 4)
        return power.indices.compactMap { k in
            let f = Double(k) * sampleRate / Double(size)
            return f >= 20 ? (f, 10 * log10(max(power[k] * norm, 1e-20))) : nil
        }
    }
}
