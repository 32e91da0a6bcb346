import Glibc

/// Monotonic wall-clock time for timing runs.
public enum Stopwatch {
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds taken by `body`.
    @inline(__always)
    public static func seconds(_ body: () -> Void) -> Double {
        let start = nanoseconds()
        body()
        return Double(nanoseconds() - start) * 1e-9
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

    /// (max - min) / median: how much the runs disagree.
    public var relativeRange: Double { median > 0 ? (maximum - minimum) / median : 0 }
}
