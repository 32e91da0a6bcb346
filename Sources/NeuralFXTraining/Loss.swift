import RealModule

/// One term of a training loss, per item: its value and the exact gradient
/// with respect to the prediction.
public enum LossTerm: Equatable, Sendable, CustomStringConvertible {
    /// Mean absolute error.
    case l1
    /// Mean squared error.
    case mse
    /// Error-to-signal ratio `sum (t - y)^2 / sum t^2`, optionally after the
    /// first-order pre-emphasis FIR `x[n] - a x[n - 1]` on both signals.
    case esr(preEmphasis: Double?)
    /// Spectral convergence plus mean absolute log-magnitude difference,
    /// Hann windows with 75 % overlap, averaged over the FFT sizes given.
    case stft(sizes: [Int])

    public static let singleResolutionSizes = [1024]
    public static let multiResolutionSizes = [2048, 1024, 512]
    public static let defaultPreEmphasis = 0.95

    public var description: String {
        switch self {
        case .l1: return "l1"
        case .mse: return "mse"
        case .esr(let a): return a.map { "esr-pre=\($0)" } ?? "esr"
        case .stft(let sizes): return sizes == LossTerm.singleResolutionSizes ? "stft"
            : sizes == LossTerm.multiResolutionSizes ? "mrstft" : "stft=" + sizes.map(String.init).joined(separator: ",")
        }
    }
}

/// A weighted sum of loss terms, e.g. `l1+stft`, `esr-pre+mrstft` or
/// `mse+0.001*mrstft`: terms whose scales differ by orders of magnitude (an
/// STFT term is near 1 where MSE is near 1e-4) need a weight to stay small.
public struct LossFunction: Equatable, Sendable, CustomStringConvertible {
    public var terms: [LossTerm]
    /// One per term.
    public var weights: [Double]

    public init(_ terms: [LossTerm], weights: [Double]? = nil) {
        self.terms = terms
        self.weights = weights ?? terms.map { _ in 1 }
        precondition(self.weights.count == terms.count)
    }

    public var description: String {
        zip(weights, terms).map { w, term in w == 1 ? term.description : "\(w)*\(term)" }.joined(separator: "+")
    }

    /// Parses `l1`, `mse`, `esr`, `esr-pre`, `esr-pre=0.85`, `stft`, `mrstft`,
    /// `stft=2048,512`, each optionally `W*` a positive weight, joined by `+`.
    public init(parsing text: String) throws {
        var terms: [LossTerm] = [], weights: [Double] = []
        for raw in text.lowercased().split(separator: "+") {
            var part = String(raw.filter { $0 != " " })
            if let star = part.firstIndex(of: "*") {
                guard let w = Double(part[..<star]), w > 0, w.isFinite else { throw LossParseError(text: part) }
                weights.append(w)
                part = String(part[part.index(after: star)...])
            } else {
                weights.append(1)
            }
            switch part {
            case "l1", "mae": terms.append(.l1)
            case "mse", "l2": terms.append(.mse)
            case "esr": terms.append(.esr(preEmphasis: nil))
            case "esr-pre": terms.append(.esr(preEmphasis: LossTerm.defaultPreEmphasis))
            case "stft": terms.append(.stft(sizes: LossTerm.singleResolutionSizes))
            case "mrstft": terms.append(.stft(sizes: LossTerm.multiResolutionSizes))
            default:
                if part.hasPrefix("esr-pre="), let a = Double(part.dropFirst(8)), a >= 0, a < 1 {
                    terms.append(.esr(preEmphasis: a))
                } else if part.hasPrefix("stft="),
                          case let sizes = part.dropFirst(5).split(separator: ",").compactMap({ Int($0) }),
                          !sizes.isEmpty, sizes.allSatisfy({ $0 >= 16 && $0 <= 65536 && $0 & ($0 - 1) == 0 }) {
                    terms.append(.stft(sizes: sizes))
                } else {
                    throw LossParseError(text: String(part))
                }
            }
        }
        if terms.isEmpty { throw LossParseError(text: text) }
        self.terms = terms
        self.weights = weights
    }

    /// The loss of one item; writes its gradient with respect to `prediction`
    /// into `gradient` (when given).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func evaluate<T: TrainingScalar>(prediction y: UnsafePointer<T>, target t: UnsafePointer<T>, count: Int,
                                            gradient: UnsafeMutablePointer<T>?) -> T {
        gradient?.update(repeating: 0, count: count)
        var total: T = 0
        for (term, termWeight) in zip(terms, weights) {
            let w = T(termWeight)
            switch term {
            case .l1: total += w * LossKernels.l1(y, t, count, weight: w, gradient)
            case .mse: total += w * LossKernels.mse(y, t, count, weight: w, gradient)
            case .esr(let a): total += w * LossKernels.esr(y, t, count, preEmphasis: a.map { T($0) }, weight: w, gradient)
            case .stft(let sizes):
                let weight = w / T(sizes.count)
                for n in sizes { total += weight * STFTLoss<T>(size: n).evaluate(y, t, count, weight: weight, gradient) }
            }
        }
        return total
    }
}

public struct LossParseError: Error, CustomStringConvertible {
    public let text: String
    public var description: String {
        "unknown loss '\(text)': use terms l1, mse, esr, esr-pre[=A], stft, mrstft or stft=N,N, each optionally W* a positive weight, joined by '+'"
    }
}

/// The sample-domain losses. Each adds `weight` times its gradient into `g`.
enum LossKernels {
    static func l1<T: TrainingScalar>(_ y: UnsafePointer<T>, _ t: UnsafePointer<T>, _ n: Int, weight: T, _ g: UnsafeMutablePointer<T>?) -> T {
        var sum: T = 0
        let scale = weight / T(n)
        for i in 0..<n {
            let e = y[i] - t[i]
            sum += abs(e)
            g?[i] += e > 0 ? scale : e < 0 ? -scale : 0
        }
        return sum * (1 / T(n))
    }

    static func mse<T: TrainingScalar>(_ y: UnsafePointer<T>, _ t: UnsafePointer<T>, _ n: Int, weight: T, _ g: UnsafeMutablePointer<T>?) -> T {
        var sum: T = 0
        let scale = weight / T(n)
        for i in 0..<n {
            let e = y[i] - t[i]
            sum += e * e
            g?[i] += 2 * e * scale
        }
        return sum * (1 / T(n))
    }

    static let esrFloor = 1e-8

    static func esr<T: TrainingScalar>(_ y: UnsafePointer<T>, _ t: UnsafePointer<T>, _ n: Int, preEmphasis a: T?,
                                       weight: T, _ g: UnsafeMutablePointer<T>?) -> T {
        let coefficient = a ?? 0
        func filtered(_ x: UnsafePointer<T>, _ i: Int) -> T { i == 0 ? x[0] : x[i] - coefficient * x[i - 1] }
        var errorEnergy: T = 0, signalEnergy: T = 0
        for i in 0..<n {
            let tf = filtered(t, i), e = filtered(y, i) - tf
            errorEnergy += e * e
            signalEnergy += tf * tf
        }
        let denominator = signalEnergy + T(esrFloor)
        if let g {
            // d/dy[i] of sum_m e[m]^2 with e[m] = (y[m] - a y[m-1]) - (t[m] - a t[m-1]).
            for m in 0..<n {
                let e = filtered(y, m) - filtered(t, m)
                let share = 2 * weight * e / denominator
                g[m] += share
                if m > 0 { g[m - 1] -= coefficient * share }
            }
        }
        return errorEnergy / denominator
    }
}

/// Spectral convergence + log-magnitude STFT loss at one resolution, Hann
/// window of the FFT size, hop a quarter of it, frames that run past the
/// end read zeros.
struct STFTLoss<T: TrainingScalar> {
    let fft: FFT<T>
    let window: [T]
    let hop: Int
    /// Magnitudes are `sqrt(|X|^2 + floor^2)`: like auraloss's power clamp at
    /// 1e-8, it keeps near-silent bins from dominating the log term, but
    /// stays differentiable.
    static var magnitudeFloor: T { T(1e-4) }

    init(size: Int) {
        fft = FFT(size: size)
        window = (0..<size).map { T(0.5 - 0.5 * Double.cos(2 * Double.pi * Double($0) / Double(size))) }
        hop = size / 4
    }

    /// Returns the loss; adds `weight` times its gradient into `g`.
    func evaluate(_ y: UnsafePointer<T>, _ t: UnsafePointer<T>, _ n: Int, weight: T, _ g: UnsafeMutablePointer<T>?) -> T {
        let size = fft.size, bins = size / 2 + 1
        let frameCount = n <= size ? 1 : 1 + (n - size + hop - 1) / hop
        var yr = [T](repeating: 0, count: size * frameCount), yi = yr
        var tr = yr, ti = yr
        func spectrum(_ x: UnsafePointer<T>, _ re: inout [T], _ im: inout [T]) {
            re.withUnsafeMutableBufferPointer { r in
                im.withUnsafeMutableBufferPointer { i in
                    for f in 0..<frameCount {
                        let start = f * hop, rp = r.baseAddress! + f * size, ip = i.baseAddress! + f * size
                        for k in 0..<size where start + k < n { rp[k] = x[start + k] * window[k] }
                        fft.transform(real: rp, imaginary: ip, sign: -1)
                    }
                }
            }
        }
        spectrum(y, &yr, &yi)
        spectrum(t, &tr, &ti)
        let floor = STFTLoss.magnitudeFloor
        var differenceEnergy: T = 0, targetEnergy: T = 0, logDifference: T = 0
        var magY = [T](repeating: 0, count: bins * frameCount), magT = magY
        for f in 0..<frameCount {
            for k in 0..<bins {
                let i = f * size + k, m = f * bins + k
                magY[m] = (yr[i] * yr[i] + yi[i] * yi[i] + floor * floor).squareRoot()
                magT[m] = (tr[i] * tr[i] + ti[i] * ti[i] + floor * floor).squareRoot()
                let d = magT[m] - magY[m]
                differenceEnergy += d * d
                targetEnergy += magT[m] * magT[m]
                logDifference += abs(T.log(magT[m]) - T.log(magY[m]))
            }
        }
        let count = T(bins * frameCount)
        let differenceNorm = differenceEnergy.squareRoot(), targetNorm = targetEnergy.squareRoot()
        let convergence = differenceNorm / targetNorm
        let loss = convergence + logDifference / count
        guard let g else { return loss }
        // Gradient with respect to each magnitude, then to each complex bin,
        // then back through the DFT (the adjoint is the opposite-sign
        // transform of the one-sided spectrum, real part) and the window.
        var gr = [T](repeating: 0, count: size), gi = gr
        for f in 0..<frameCount {
            for k in 0..<size { gr[k] = 0; gi[k] = 0 }
            for k in 0..<bins {
                let i = f * size + k, m = f * bins + k
                var dMag: T = 0
                if differenceNorm > 0 { dMag += (magY[m] - magT[m]) / (differenceNorm * targetNorm) }
                let logGap = T.log(magY[m]) - T.log(magT[m])
                if logGap != 0 { dMag += (logGap > 0 ? 1 : -1) / (count * magY[m]) }
                gr[k] = dMag * yr[i] / magY[m]
                gi[k] = dMag * yi[i] / magY[m]
            }
            gr.withUnsafeMutableBufferPointer { r in
                gi.withUnsafeMutableBufferPointer { im in fft.transform(real: r.baseAddress!, imaginary: im.baseAddress!, sign: 1) }
            }
            let start = f * hop
            for k in 0..<size where start + k < n { g[start + k] += weight * window[k] * gr[k] }
        }
        return loss
    }
}
