import Glibc

/// A streaming band-limited resampler between two integer rates, for running
/// a model trained at one rate inside a stream at another.
///
/// Output sample j stands for input time j * inputRate / outputRate exactly:
/// positions are kept as integer fractions, so the result does not depend on
/// how the input is split into blocks. The kernel is a Blackman-windowed
/// sinc of `halfWidth` input samples either side, cut off below the lower
/// Nyquist frequency, tabulated at `phases` fractional positions (linearly
/// interpolated) and normalized to unit gain at DC. `process` allocates nothing.
public final class Resampler {
    public let inputRate: Int
    public let outputRate: Int
    public let halfWidth: Int
    public let maxInputBlock: Int
    static let phases = 512

    private let table: UnsafeMutablePointer<Float>
    private let history: UnsafeMutablePointer<Float>
    private let capacity: Int
    /// Absolute input index of history[0], and how many samples it holds.
    private var base: Int
    private var held: Int
    /// Next output position: `nextIndex + nextNumerator / outputRate` input samples.
    private var nextIndex = 0
    private var nextNumerator = 0

    /// `initialValue`: what the input is taken to have been before it started
    /// (a resampler fed by a model's output starts from the model's output for silence).
    public init(inputRate: Int, outputRate: Int, maxInputBlock: Int, halfWidth: Int = 16, initialValue: Float = 0) {
        precondition(inputRate > 0 && outputRate > 0 && maxInputBlock > 0 && halfWidth > 0)
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.halfWidth = halfWidth
        self.maxInputBlock = maxInputBlock
        let taps = 2 * halfWidth
        table = .allocate(capacity: (Self.phases + 1) * taps)
        let cutoff = 0.92 * min(1, Double(outputRate) / Double(inputRate))
        for row in 0...Self.phases {
            let f = Double(row) / Double(Self.phases)
            var sum = 0.0
            var values = [Double](repeating: 0, count: taps)
            for t in 0..<taps {
                // Tap t weighs input sample (index + t - halfWidth + 1), at distance d.
                let d = f - Double(t - halfWidth + 1)
                let x = Double.pi * cutoff * d
                let sinc = abs(x) < 1e-12 ? 1 : sin(x) / x
                let w = d / Double(halfWidth)
                let window = abs(w) >= 1 ? 0 : 0.42 + 0.5 * cos(Double.pi * w) + 0.08 * cos(2 * Double.pi * w)
                values[t] = sinc * window
                sum += values[t]
            }
            for t in 0..<taps { table[row * taps + t] = Float(values[t] / sum) }
        }
        capacity = maxInputBlock + 2 * taps + 2
        history = .allocate(capacity: capacity)
        history.initialize(repeating: initialValue, count: capacity)
        base = -halfWidth
        held = halfWidth
    }

    deinit {
        table.deallocate()
        history.deallocate()
    }

    /// Most outputs one call with `inputCount` samples can produce.
    public func maxOutput(forInput inputCount: Int) -> Int { inputCount * outputRate / inputRate + 2 }

    /// Output samples lag their input time by at most this many output
    /// samples before they can be produced (the kernel's look-ahead).
    public var lookaheadOutputSamples: Int { ((halfWidth + 1) * outputRate + inputRate - 1) / inputRate + 1 }

    /// Consumes `count` (<= maxInputBlock) input samples; writes the outputs
    /// that became computable and returns how many.
    public func process(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) -> Int {
        (history + held).update(from: input, count: count)
        held += count
        let taps = 2 * halfWidth
        let stepIndex = inputRate / outputRate, stepNumerator = inputRate % outputRate
        var produced = 0
        // Output at nextIndex needs inputs up to nextIndex + halfWidth.
        while nextIndex + halfWidth < base + held {
            let phase = Double(nextNumerator) * Double(Self.phases) / Double(outputRate)
            let row = Int(phase)
            let frac = Float(phase - Double(row))
            let a = table + row * taps, b = a + taps
            let x = history + (nextIndex - halfWidth + 1 - base)
            var acc: Float = 0
            for t in 0..<taps { acc += x[t] * (a[t] + (b[t] - a[t]) * frac) }
            output[produced] = acc
            produced += 1
            nextIndex += stepIndex
            nextNumerator += stepNumerator
            if nextNumerator >= outputRate { nextNumerator -= outputRate; nextIndex += 1 }
        }
        // Keep only the history the next output can still reach.
        let keepFrom = nextIndex - halfWidth + 1 - base
        if keepFrom > 0 {
            let drop = min(keepFrom, held)
            history.update(from: history + drop, count: held - drop)
            held -= drop
            base += drop
        }
        return produced
    }
}
