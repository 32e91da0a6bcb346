/// A fixed-size, zero-initialized buffer of scalars owned by one training
/// item, so parallel workers touch raw memory without copy-on-write or
/// exclusivity checks.
final class Storage<T: TrainingScalar>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    func zero() { pointer.update(repeating: 0, count: count) }

    var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
