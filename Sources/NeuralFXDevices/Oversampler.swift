import RealModule

/// Integer-factor oversampling with one linear-phase FIR low-pass used twice:
/// as the interpolator (removes the images of the zero-stuffed input, so the
/// nonlinearity is not fed ultrasonic copies of the signal) and as the
/// decimator (removes the harmonics the nonlinearity made above the base
/// Nyquist frequency before they are folded back by downsampling).
///
/// The prototype is a Kaiser-windowed sinc. With the default 44.1 kHz base
/// rate it passes 0-18 kHz (ripple < 0.01 dB) and attenuates by more than
/// 100 dB from 24.1 kHz up: content between 22.05 and 24.1 kHz can only fold
/// onto 20-22.05 kHz, above the passband. Filter length is odd and its
/// delay a whole number of base samples, so up plus down delay the signal by
/// exactly `latency` base-rate samples.
struct Oversampler {
    let factor: Int
    /// Taps per polyphase branch of the interpolator.
    let tapsPerPhase: Int
    /// Interpolator branches, `factor` of them, each `tapsPerPhase` long,
    /// stored newest-sample-first to run against the history directly.
    private var branches: [Float]
    /// Decimator taps, newest-sample-first.
    private var decimatorTaps: [Float]
    /// Base-rate history, written twice so any window is contiguous.
    private var inputHistory: [Float]
    private var inputPosition = 0
    /// Oversampled history for the decimator, likewise doubled.
    private var outputHistory: [Float]
    private var outputPosition = 0
    /// Base-rate samples of delay through interpolation plus decimation.
    let latency: Int

    /// - Parameters:
    ///   - passbandEdge, stopbandEdge: in Hz at `sampleRate` (the base rate).
    init(factor: Int, sampleRate: Double, passbandEdge: Double, stopbandEdge: Double, kaiserBeta: Double,
         tapsPerPhase: Int) {
        precondition(factor >= 2 && tapsPerPhase >= 4)
        self.factor = factor
        self.tapsPerPhase = tapsPerPhase
        // Odd length with a delay of a whole number of base samples per pass.
        var length = factor * tapsPerPhase - factor + 1
        if (length - 1) % (2 * factor) != 0 { length -= factor }
        let highRate = sampleRate * Double(factor)
        let cutoff = 0.5 * (passbandEdge + stopbandEdge) / highRate  // cycles per oversampled sample
        let center = Double(length - 1) / 2
        var prototype = [Double](repeating: 0, count: length)
        let window0 = besselI0(kaiserBeta)
        for i in 0..<length {
            let t = Double(i) - center
            let sinc = t == 0 ? 2 * cutoff : Double.sin(2 * Double.pi * cutoff * t) / (Double.pi * t)
            let r = t / center
            prototype[i] = sinc * besselI0(kaiserBeta * (1 - r * r).squareRoot()) / window0
        }
        let dcGain = prototype.reduce(0, +)
        prototype = prototype.map { $0 / dcGain }
        latency = (length - 1) / factor

        decimatorTaps = prototype.map(Float.init)
        // Branch p produces oversampled sample n*factor + p from base samples
        // x[n - k] through taps h[k*factor + p]; the interpolator gain is
        // `factor` because zero-stuffing keeps one sample in `factor`.
        branches = [Float](repeating: 0, count: factor * tapsPerPhase)
        for p in 0..<factor {
            for k in 0..<tapsPerPhase where k * factor + p < length {
                branches[p * tapsPerPhase + k] = Float(prototype[k * factor + p] * Double(factor))
            }
        }
        inputHistory = [Float](repeating: 0, count: 2 * tapsPerPhase)
        outputHistory = [Float](repeating: 0, count: 2 * length)
    }

    var filterLength: Int { decimatorTaps.count }

    mutating func reset() {
        for i in inputHistory.indices { inputHistory[i] = 0 }
        for i in outputHistory.indices { outputHistory[i] = 0 }
        inputPosition = 0
        outputPosition = 0
    }

    /// Pushes one base-rate sample; writes `factor` oversampled samples.
    @inline(__always)
    mutating func upsample(_ x: Float, into out: UnsafeMutablePointer<Float>) {
        let n = tapsPerPhase
        inputPosition = inputPosition == 0 ? n - 1 : inputPosition - 1
        inputHistory.withUnsafeMutableBufferPointer { h in
            h[inputPosition] = x
            h[inputPosition + n] = x
            let window = h.baseAddress! + inputPosition  // window[k] = x[now - k]
            branches.withUnsafeBufferPointer { b in
                for p in 0..<factor { out[p] = dot(b.baseAddress! + p * n, window, n) }
            }
        }
    }

    /// Pushes `factor` oversampled samples; returns the base-rate sample at
    /// the time of the first of them (the one aligned with the input sample
    /// they were interpolated from), the rest wait for the next call.
    @inline(__always)
    mutating func downsample(_ block: UnsafePointer<Float>) -> Float {
        let n = decimatorTaps.count
        return outputHistory.withUnsafeMutableBufferPointer { h in
            var result: Float = 0
            for p in 0..<factor {
                outputPosition = outputPosition == 0 ? n - 1 : outputPosition - 1
                h[outputPosition] = block[p]
                h[outputPosition + n] = block[p]
                if p == 0 {
                    result = decimatorTaps.withUnsafeBufferPointer { dot($0.baseAddress!, h.baseAddress! + outputPosition, n) }
                }
            }
            return result
        }
    }
}

@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    // Four independent vector sums keep several multiply-adds in flight.
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    let stride = MemoryLayout<Float>.stride
    var i = 0
    while i + 32 <= n {
        s0.addProduct(ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self),
                      rb.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self))
        s1.addProduct(ra.loadUnaligned(fromByteOffset: (i + 8) * stride, as: SIMD8<Float>.self),
                      rb.loadUnaligned(fromByteOffset: (i + 8) * stride, as: SIMD8<Float>.self))
        s2.addProduct(ra.loadUnaligned(fromByteOffset: (i + 16) * stride, as: SIMD8<Float>.self),
                      rb.loadUnaligned(fromByteOffset: (i + 16) * stride, as: SIMD8<Float>.self))
        s3.addProduct(ra.loadUnaligned(fromByteOffset: (i + 24) * stride, as: SIMD8<Float>.self),
                      rb.loadUnaligned(fromByteOffset: (i + 24) * stride, as: SIMD8<Float>.self))
        i += 32
    }
    while i + 8 <= n {
        s0.addProduct(ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self),
                      rb.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Float>.self))
        i += 8
    }
    var s = ((s0 + s1) + (s2 + s3)).sum()
    while i < n {
        s += a[i] * b[i]
        i += 1
    }
    return s
}

/// Modified Bessel function of the first kind, order zero (power series).
private func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let q = x * x / 4
    var k = 1.0
    while term > 1e-17 * sum {
        term *= q / (k * k)
        sum += term
        k += 1
    }
    return sum
}
