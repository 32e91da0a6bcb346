/// The machine's arithmetic ceiling on one core: sixteen-lane fused
/// multiply-adds with enough independent chains to hide their latency
/// (twelve, for two FMA units of four-cycle latency), on values loaded from
/// memory so the compiler cannot fold the loop away. Each chain iterates
/// `a = a * m + c`, which converges, so no lane overflows or goes subnormal.
public enum PeakThroughput {
    static let chains = 12

    /// Best GFLOP/s (one FMA = 2 FLOPs per lane) over `trials` runs of about
    /// `seconds` each, by thread CPU time.
    public static func measureGFLOPs(seconds: Double = 0.1, trials: Int = 7) -> Double {
        let probe = Probe(seconds: seconds)
        return (0..<trials).map { _ in probe.measure() }.max()!
    }

    /// A calibrated peak loop to run between timed runs: the core's speed
    /// drifts within minutes on the shared VMs, so a speed is only compared
    /// with the peak measured beside it.
    public final class Probe {
        let state: UnsafeMutablePointer<SIMD16<Float>>
        let iterations: Int

        public init(seconds: Double) {
            let state = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: chains + 2)
            self.state = state
            state.initialize(repeating: SIMD16(repeating: 0.5), count: chains)
            state[chains] = SIMD16(repeating: 0.999)
            state[chains + 1] = SIMD16(repeating: 1e-4)
            // Size the run from a short calibration.
            var n = 100_000
            while Stopwatch.measure({ fmaLoop(state, n) }).cpu < 0.02 { n *= 2 }
            let perSecond = Double(n) / Stopwatch.measure { fmaLoop(state, n) }.cpu
            iterations = max(Int(perSecond * seconds), 1)
        }

        deinit { state.deallocate() }

        /// GFLOP/s of one run.
        public func measure() -> Double {
            let t = Stopwatch.measure { fmaLoop(state, iterations) }.cpu
            return Double(iterations * chains * 16 * 2) / t * 1e-9
        }
    }

    /// The vector instructions this build's arithmetic uses: the portable
    /// build targets x86-64-v3 (AVX2 and FMA, 256-bit); a native build
    /// whatever the CPU it was built on has, assumed to be this one.
    public static var vectorInstructions: String {
        #if NEURALFX_PORTABLE
        #if arch(x86_64)
        return "portable build (x86-64-v3): AVX2 + FMA, 256-bit vectors"
        #else
        return "portable build"
        #endif
        #elseif NEURALFX_VECTOR256
        return "build for 256-bit vectors (AVX2 + FMA)"
        #else
        let flags = cpuFlags
        if flags.contains("avx512f") { return "native build: AVX-512, 512-bit vectors" }
        if flags.contains("avx2") && flags.contains("fma") { return "native build: AVX2 + FMA, 256-bit vectors" }
        return "native build"
        #endif
    }

    static var cpuFlags: Set<Substring> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }

    @inline(never)
    static func fmaLoop(_ state: UnsafeMutablePointer<SIMD16<Float>>, _ iterations: Int) {
        var a0 = state[0], a1 = state[1], a2 = state[2], a3 = state[3], a4 = state[4], a5 = state[5]
        var a6 = state[6], a7 = state[7], a8 = state[8], a9 = state[9], a10 = state[10], a11 = state[11]
        let m = state[chains], c = state[chains + 1]
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m); a3 = c.addingProduct(a3, m)
            a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m); a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m)
            a8 = c.addingProduct(a8, m); a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
        }
        state[0] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
    }
}
