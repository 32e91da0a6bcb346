import Synchronization

/// Tells the control loop to finish, from any thread (signal watcher, JACK's
/// shutdown notice, the UI), with the reason to report. Raised once; later
/// reasons are ignored.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    private let why = Mutex<String?>(nil)
    private let failed = Atomic<Bool>(false)

    public init() {}

    public var isRaised: Bool { raised.load(ordering: .acquiring) }
    public var reason: String? { why.withLock { $0 } }
    /// True when the stop is an error (server gone), for the exit status.
    public var isFailure: Bool { failed.load(ordering: .acquiring) }

    public func raise(_ reason: String? = nil, failure: Bool = false) {
        why.withLock { if $0 == nil { $0 = reason } }
        if failure { failed.store(true, ordering: .releasing) }
        raised.store(true, ordering: .releasing)
    }
}
