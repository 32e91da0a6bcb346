/// A mono network that processes audio as it arrives.
///
/// Life cycle: `prepare(maxBlockSize:)` allocates every buffer once; then
/// `process` may be called with any frame count up to that maximum and must
/// allocate nothing, take no lock and make no system call. Output for any
/// sequence of block sizes equals the output for the whole signal at once.
public protocol StreamingNetwork: AnyObject {
    /// Conditioning inputs the network expects (0 for an unconditioned one).
    var conditioningSize: Int { get }
    /// Past input samples that influence the current output.
    var receptiveField: Int { get }
    /// Multiply-adds per output sample, for speed reports.
    var multiplyAddsPerSample: Int { get }
    /// Bytes of state and scratch held after `prepare`.
    var stateBytes: Int { get }

    func prepare(maxBlockSize: Int)
    /// Sets the conditioning vector. Allocation-free; may be called between
    /// any two `process` calls.
    func setConditioning(_ values: UnsafePointer<Float>)
    /// Forgets the past: the state becomes that of a network that has only
    /// ever heard silence.
    func reset()
    func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int)
}

/// A plain description of a network that can build running instances of it.
/// Model files produce these; the core knows nothing about files.
public protocol NetworkBlueprint: Sendable {
    /// Short architecture name for reports ("micro-tcn", "nam-wavenet", ...).
    var architectureName: String { get }
    var conditioningSize: Int { get }
    func makeNetwork() -> any StreamingNetwork
}
