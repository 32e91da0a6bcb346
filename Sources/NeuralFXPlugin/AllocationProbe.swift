import CLV2
import Glibc

/// Test-only proof that run() allocates nothing inside a real host: when
/// NEURALFX_LV2_ALLOCATION_REPORT names a file and the host process has the
/// allocation counter preloaded (libnfx_allocation_counter.so in LD_PRELOAD),
/// every run() and work_response() is counted, and the totals are written
/// to that file when the instance is freed. Without both, it does nothing.
final class AllocationProbe {
    static let environmentVariable = "NEURALFX_LV2_ALLOCATION_REPORT"

    private typealias Begin = @convention(c) () -> Void
    private typealias End = @convention(c) () -> Int64
    private let beginCounting: Begin?
    private let endCounting: End?
    private let reportPath: String?
    private var calls = 0
    private var allocations: Int64 = 0
    private var calibration: Int64 = 0

    init() {
        guard let path = getenv(Self.environmentVariable), path.pointee != 0,
              let begin = nfx_process_symbol("nfx_allocation_counting_begin"),
              let end = nfx_process_symbol("nfx_allocation_counting_end") else {
            beginCounting = nil; endCounting = nil; reportPath = nil
            return
        }
        reportPath = String(cString: path)
        beginCounting = unsafeBitCast(begin, to: Begin.self)
        endCounting = unsafeBitCast(end, to: End.self)
        // One allocation and one free the counter must see, so a report of
        // zero in run() cannot come from a counter that is not in place.
        // (Called through pointers: the optimizer removes a visible malloc/free pair.)
        typealias Malloc = @convention(c) (Int) -> UnsafeMutableRawPointer?
        typealias Free = @convention(c) (UnsafeMutableRawPointer?) -> Void
        if let m = nfx_process_symbol("malloc"), let f = nfx_process_symbol("free") {
            beginCounting?()
            unsafeBitCast(f, to: Free.self)(unsafeBitCast(m, to: Malloc.self)(16))
            calibration = endCounting?() ?? 0
        }
    }

    @inline(__always) func begin() { beginCounting?() }

    @inline(__always) func end() {
        guard let endCounting else { return }
        allocations += endCounting()
        calls += 1
    }

    func writeReport(switches: Int) {
        guard let reportPath, let file = fopen(reportPath, "a") else { return }
        fputs("calibration=\(calibration) calls=\(calls) allocations=\(allocations) switches=\(switches)\n", file)
        fclose(file)
    }
}
