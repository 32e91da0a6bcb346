import Foundation
import Synchronization

/// Where a play-and-record run stands, for a progress bar and meters.
public struct PlayRecordProgress: Sendable {
    /// Samples recorded so far, of `total`.
    public var done: Int
    public var total: Int
    /// Peaks since the last report, linear.
    public var sendPeak: Float
    public var returnPeak: Float
}

/// One run's recording: `recording[k]` is the return `k` samples after the
/// first sample of the signal went out, so a round trip of L samples puts
/// the signal's sample j at `recording[j + L]`.
public struct PlayRecordResult: Sendable {
    public var recording: [Float]
    /// Deadlines the audio path missed while the run was on (audio dropped).
    public var xruns: Int
    /// Heap allocations made by the audio callbacks during the run (0: real-time safe).
    public var callbackAllocations: Int
}

/// Plays a signal out of an interface and records what comes back, sample
/// locked. The audio side allocates nothing: buffers exist before the run.
public protocol PlayRecordDevice: AnyObject {
    var sampleRate: Int { get }
    /// Which ports or device, for the user and the dataset manifest.
    var route: String { get }
    /// The part of the round trip the audio system itself accounts for (JACK's
    /// port latencies, ALSA's primed playback buffer), if known: the rest of a
    /// measured latency is the converters, the cables and the gear.
    var bufferLatency: Int? { get }
    /// Plays `signal`, every sample clamped to ±`ceiling` on its way out (the
    /// last guard on the level sent), records `recordFrames` samples, and
    /// calls `progress` on the calling thread a few times a second. Returns
    /// nil when `stop` was raised (Ctrl-C); throws when the device fails.
    func playAndRecord(_ signal: [Float], recordFrames: Int, ceiling: Float, stop: StopSignal,
                       progress: (PlayRecordProgress) -> Void) throws -> PlayRecordResult?
}

/// A meter shared between an audio thread (which raises it) and the
/// control thread (which reads and clears it): a Float's bits in an atomic.
/// Non-negative floats order as their bit patterns do.
final class PeakMeter: Sendable {
    private let bits = Atomic<UInt32>(0)
    func raise(_ value: Float) {
        let v = value.bitPattern
        if v > bits.load(ordering: .relaxed) { bits.store(v, ordering: .relaxed) }
    }
    func take() -> Float { Float(bitPattern: bits.exchange(0, ordering: .relaxed)) }
}
