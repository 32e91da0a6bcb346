import RealModule

/// A model's error energy and the target's own energy in four bands (below
/// 2 kHz, 2-6 kHz, 6-12 kHz, above 12 kHz). A pooled ESR hides where the
/// error sits: a drive model whose error between 6 and 12 kHz is several
/// times the target's energy there fizzes audibly at a modest overall ESR.
/// Sums pool over any group of stretches, like `EnergySums`.
public struct BandErrors: Codable, Sendable, Equatable {
    /// Upper edges of the lower three bands, in Hz.
    public static let edges = [2000.0, 6000.0, 12000.0]
    public static let names = ["< 2 kHz", "2-6 kHz", "6-12 kHz", "> 12 kHz"]
    static let frame = 2048

    public var error = [Double](repeating: 0, count: 4)
    public var target = [Double](repeating: 0, count: 4)

    public init() {}

    /// Energies from Hann-windowed frames overlapping by half (the window's
    /// gain is the same for error and target, so it cancels in the ratios);
    /// audio shorter than a frame is one zero-padded frame.
    public init(prediction: [Float], target t: [Float], sampleRate: Double) {
        let n = min(prediction.count, t.count), size = Self.frame
        let fft = FFT<Double>(size: size)
        let window = (0..<size).map { 0.5 - 0.5 * Double.cos(2 * .pi * Double($0) / Double(size)) }
        let band = (0...(size / 2)).map { k -> Int in
            let hertz = Double(k) * sampleRate / Double(size)
            return Self.edges.firstIndex { hertz < $0 } ?? Self.edges.count
        }
        var start = 0
        repeat {
            var er = [Double](repeating: 0, count: size), ei = er, tr = er, ti = er
            for i in 0..<min(size, n - start) {
                let p = Double(prediction[start + i]), v = Double(t[start + i])
                er[i] = (p - v) * window[i]
                tr[i] = v * window[i]
            }
            fft.transform(real: &er, imaginary: &ei, sign: -1)
            fft.transform(real: &tr, imaginary: &ti, sign: -1)
            // Bins 1..N/2-1 stand for their mirror images too.
            for k in 0...(size / 2) {
                let weight = k == 0 || k == size / 2 ? 1.0 : 2.0
                error[band[k]] += weight * (er[k] * er[k] + ei[k] * ei[k])
                target[band[k]] += weight * (tr[k] * tr[k] + ti[k] * ti[k])
            }
            start += size / 2
        } while start + size <= n  // whole frames only: a cut-off one leaks into every band
    }

    public static func + (a: BandErrors, b: BandErrors) -> BandErrors {
        var s = a
        for i in 0..<4 { s.error[i] += b.error[i]; s.target[i] += b.target[i] }
        return s
    }

    /// Error energy over the target's energy in each band; nil where the
    /// target has next to none (above the Nyquist frequency, or only the
    /// window's leakage: under 1e-9 of its total).
    public var ratios: [Double?] {
        let total = target.reduce(0, +)
        return zip(error, target).map { $1 > 1e-9 * total && $1 > 0 ? $0 / $1 : nil }
    }

    /// "< 2 kHz 0.012, 2-6 kHz 0.30, ..." for log lines.
    public var summary: String {
        zip(Self.names, ratios).compactMap { name, r in r.map { "\(name) \(formatRatio($0))" } }.joined(separator: ", ")
    }
}

func formatRatio(_ v: Double) -> String {
    v < 0.01 ? String(format: "%.2e", v) : String(format: "%.3f", v)
}
