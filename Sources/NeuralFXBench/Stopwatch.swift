import Glibc

/// Timing of runs on the calling thread: wall-clock time, and the CPU time
/// the thread itself used (which leaves out time the scheduler gave to other
/// processes, so it stays meaningful on a busy machine).
public enum Stopwatch {
    public static func nanoseconds(_ clock: clockid_t = CLOCK_MONOTONIC) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Wall-clock and thread CPU seconds taken by `body`.
    @inline(__always)
    public static func measure(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let wall = nanoseconds(), cpu = nanoseconds(CLOCK_THREAD_CPUTIME_ID)
        body()
        let cpuEnd = nanoseconds(CLOCK_THREAD_CPUTIME_ID), wallEnd = nanoseconds()
        return (Double(wallEnd - wall) * 1e-9, Double(cpuEnd - cpu) * 1e-9)
    }
}

/// Median and extremes of repeated measurements.
public struct Spread: Codable, Equatable, Sendable {
    public var median: Double
    public var minimum: Double
    public var maximum: Double

    public init(_ samples: [Double]) {
        precondition(!samples.isEmpty)
        let sorted = samples.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        minimum = sorted.first!
        maximum = sorted.last!
    }
}
