import Synchronization

/// A fixed-capacity single-producer single-consumer queue of plain values.
///
/// One side may be the audio thread: `push` and `pop` never allocate, lock or
/// make a system call. The storage is allocated once, up front. Elements must
/// be trivial (no references), so moving them in and out costs nothing.
final class MessageRing<Element> {
    private let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<Element>
    /// Count of elements ever written (advanced by the producer).
    private let written = Atomic<Int>(0)
    /// Count of elements ever read (advanced by the consumer).
    private let read = Atomic<Int>(0)

    init(capacity requested: Int) {
        var c = 1
        while c < requested { c <<= 1 }
        capacity = c
        mask = c - 1
        storage = .allocate(capacity: c)
    }

    deinit {
        while pop() != nil {}
        storage.deallocate()
    }

    /// Appends `element`; returns false (and drops nothing) when full.
    @discardableResult
    func push(_ element: Element) -> Bool {
        let w = written.load(ordering: .relaxed)
        if w - read.load(ordering: .acquiring) == capacity { return false }
        (storage + (w & mask)).initialize(to: element)
        written.store(w + 1, ordering: .releasing)
        return true
    }

    func pop() -> Element? {
        let r = read.load(ordering: .relaxed)
        if r == written.load(ordering: .acquiring) { return nil }
        let element = (storage + (r & mask)).move()
        read.store(r + 1, ordering: .releasing)
        return element
    }

    var isEmpty: Bool { read.load(ordering: .acquiring) == written.load(ordering: .acquiring) }
}
