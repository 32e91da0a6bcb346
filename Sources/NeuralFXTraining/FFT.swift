import RealModule

/// An in-place iterative radix-2 complex FFT of one power-of-two size, used
/// by the STFT loss on real frames (imaginary part zero) and, with the
/// opposite sign, for its exact gradient.
public struct FFT<T: TrainingScalar>: Sendable {
    public let size: Int
    private let cosines: [T]
    private let sines: [T]
    private let reversed: [Int]

    public init(size: Int) {
        precondition(size >= 2 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        var cosines = [T](), sines = [T]()
        for k in 0..<(size / 2) {
            let angle = 2 * Double.pi * Double(k) / Double(size)
            cosines.append(T(Double.cos(angle)))
            sines.append(T(Double.sin(angle)))
        }
        self.cosines = cosines
        self.sines = sines
        var bits = 0
        while 1 << bits < size { bits += 1 }
        reversed = (0..<size).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    /// `X[k] = sum_n x[n] e^(sign * 2 pi i k n / N)`, unnormalized; `sign`
    /// is -1 for the forward transform.
    public func transform(real: UnsafeMutablePointer<T>, imaginary: UnsafeMutablePointer<T>, sign: T) {
        for i in 0..<size where reversed[i] > i {
            swap(&real[i], &real[reversed[i]])
            swap(&imaginary[i], &imaginary[reversed[i]])
        }
        var half = 1
        while half < size {
            let stride = size / (2 * half)
            var start = 0
            while start < size {
                for k in 0..<half {
                    let c = cosines[k * stride], s = sign * sines[k * stride]
                    let a = start + k, b = a + half
                    let tr = real[b] * c - imaginary[b] * s
                    let ti = real[b] * s + imaginary[b] * c
                    real[b] = real[a] - tr
                    imaginary[b] = imaginary[a] - ti
                    real[a] += tr
                    imaginary[a] += ti
                }
                start += 2 * half
            }
            half *= 2
        }
    }
}
