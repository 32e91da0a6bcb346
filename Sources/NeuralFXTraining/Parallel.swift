import Dispatch

/// Runs `body(item)` for every item: serially when `threads` is 1, otherwise
/// on Dispatch's workers (one per core). Each item writes only its own
/// buffers, so the results never depend on scheduling or thread count.
func forEachItem(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UnsafeSendableBox(body)
        DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
    }
}

/// Hands a closure to Dispatch's workers; the caller guarantees the items
/// are independent.
struct UnsafeSendableBox<V>: @unchecked Sendable {
    let value: V
    init(_ value: V) { self.value = value }
}
