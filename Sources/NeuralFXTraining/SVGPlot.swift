import Foundation

/// Small self-contained SVG line charts: the loss curves and a target-
/// versus-prediction waveform written next to the model, and the
/// comparison plots of `fxtrain evaluate`.
public enum SVGPlot {
    static let width = 900.0, height = 420.0, margin = 60.0

    public struct Series {
        public var name: String
        public var color: String
        public var points: [(Double, Double)]
        public init(name: String, color: String, points: [(Double, Double)]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    public static func chart(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false,
                             logX: Bool = false) -> String {
        let all = series.flatMap(\.points).filter { $0.1.isFinite && (!logY || $0.1 > 0) && (!logX || $0.0 > 0) }
        let xs = all.map { logX ? log10($0.0) : $0.0 }, ys = all.map { logY ? log10($0.1) : $0.1 }
        let x0 = xs.min() ?? 0, x1 = max(xs.max() ?? 1, x0 + 1e-9)
        var y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        let plotW = width - 2 * margin, plotH = height - 2 * margin
        func px(_ x: Double) -> Double { margin + ((logX ? log10(x) : x) - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { height - margin - ((logY ? log10(y) : y) - y0) / (y1 - y0) * plotH }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="24" text-anchor="middle" font-size="15">\(escape(title))</text>
        <rect x="\(margin)" y="\(margin)" width="\(plotW)" height="\(plotH)" fill="none" stroke="#888"/>
        <text x="\(width / 2)" y="\(height - 15)" text-anchor="middle">\(escape(xLabel))</text>
        <text x="16" y="\(height / 2)" text-anchor="middle" transform="rotate(-90 16 \(height / 2))">\(escape(yLabel))</text>

        """
        for i in 0...4 {
            let fx = Double(i) / 4
            let xv = x0 + fx * (x1 - x0), yv = y0 + fx * (y1 - y0)
            let yText = logY ? String(format: "%.3g", pow(10, yv)) : String(format: "%.3g", yv)
            let xText = String(format: "%.4g", logX ? pow(10, xv) : xv)
            svg += "<text x=\"\(margin + fx * plotW)\" y=\"\(height - margin + 16)\" text-anchor=\"middle\">\(xText)</text>\n"
            svg += "<text x=\"\(margin - 6)\" y=\"\(height - margin - fx * plotH + 4)\" text-anchor=\"end\">\(yText)</text>\n"
            svg += "<line x1=\"\(margin)\" x2=\"\(width - margin)\" y1=\"\(height - margin - fx * plotH)\" y2=\"\(height - margin - fx * plotH)\" stroke=\"#eee\"/>\n"
        }
        for (i, s) in series.enumerated() {
            let pts = s.points.filter { $0.1.isFinite && (!logY || $0.1 > 0) && (!logX || $0.0 > 0) }
                .map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.2\" points=\"\(pts)\"/>\n"
            svg += "<text x=\"\(width - margin - 150)\" y=\"\(margin + 18 + 16 * Double(i))\" fill=\"\(s.color)\">\(escape(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Training and validation loss against step (log scale).
    public static func lossCurve(_ history: [LogRow], title: String) -> String {
        chart(title: title, xLabel: "step", yLabel: "loss", series: [
            Series(name: "training", color: "#1f77b4", points: history.map { (Double($0.step), $0.trainLoss) }),
            Series(name: "validation", color: "#d62728", points: history.map { (Double($0.step), $0.validationLoss) }),
        ], logY: true)
    }

    /// Target and prediction over (at most) `seconds` of a test clip.
    public static func waveforms(target: [Float], prediction: [Float], sampleRate: Int, seconds: Double = 2, title: String) -> String {
        let n = min(target.count, prediction.count, Int(seconds * Double(sampleRate)))
        let stride = max(1, n / 3000)
        func points(_ x: [Float]) -> [(Double, Double)] {
            Swift.stride(from: 0, to: n, by: stride).map { (Double($0) / Double(sampleRate), Double(x[$0])) }
        }
        return chart(title: title, xLabel: "seconds", yLabel: "amplitude", series: [
            Series(name: "target", color: "#222222", points: points(target)),
            Series(name: "prediction", color: "#ff7f0e", points: points(prediction)),
        ], logY: false)
    }
}
