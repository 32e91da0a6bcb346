import CAllocationCounter
import CALSA
import Dispatch
import Foundation
import Glibc
import NeuralFXCore
import Synchronization

/// fxhost's ALSA driver: capture and playback on one device, a period at a
/// time, on its own thread (real-time priority where the system allows).
/// An xrun is counted and recovered from; the stream keeps running.
public final class AlsaDuplex: @unchecked Sendable {
    public let rate: Int
    public let channels: Int
    public let periodFrames: Int
    /// The formats the device gave us, for the report.
    public var formats: (capture: String, playback: String) { (capture.format.name, playback.format.name) }
    /// Whether the audio thread got SCHED_FIFO.
    public var realtime: Bool { realtimeGranted.load(ordering: .acquiring) }

    private let capture: AlsaPCM
    private let playback: AlsaPCM
    private let processor: LiveProcessor
    private let stop: StopSignal
    private let captureRaw: UnsafeMutableRawPointer
    private let playbackRaw: UnsafeMutableRawPointer
    private let inputBuffers: [FloatBuffer]
    private let outputBuffers: [FloatBuffer]
    private let finished = DispatchSemaphore(value: 0)
    private let realtimeGranted = Atomic<Bool>(false)

    private let frameLimit: Int?

    /// `frameLimit`: stop (raising `stop`) after exactly that many frames.
    public init(device: String, rate: Int, channels: Int, period: Int, periods: Int,
                processor: LiveProcessor, stop: StopSignal, frameLimit: Int? = nil) throws {
        guard period > 0, periods >= 2 else { throw HostError.badArgument("--period must be positive and --periods at least 2") }
        capture = try AlsaPCM(device: device, capture: true, rate: rate, channels: channels, period: period, periods: periods)
        playback = try AlsaPCM(device: device, capture: false, rate: rate, channels: channels, period: period, periods: periods)
        guard capture.periodFrames == playback.periodFrames else {
            throw HostError.alsa("ALSA device '\(device)' gives different capture and playback periods")
        }
        self.rate = rate
        self.channels = channels
        periodFrames = capture.periodFrames
        self.processor = processor
        self.stop = stop
        self.frameLimit = frameLimit
        let frames = capture.periodFrames
        captureRaw = .allocate(byteCount: frames * channels * capture.format.bytes, alignment: 16)
        playbackRaw = .allocate(byteCount: frames * channels * playback.format.bytes, alignment: 16)
        inputBuffers = (0..<channels).map { _ in FloatBuffer(count: frames) }
        outputBuffers = (0..<channels).map { _ in FloatBuffer(count: frames) }
        for c in 0..<channels {
            processor.inputs[c] = UnsafePointer(inputBuffers[c].pointer)
            processor.outputs[c] = outputBuffers[c].pointer
        }
    }

    deinit {
        captureRaw.deallocate()
        playbackRaw.deallocate()
    }

    public func start() throws {
        let thread = Thread { [self] in
            var param = sched_param(sched_priority: 70)
            realtimeGranted.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0, ordering: .releasing)
            run()
            finished.signal()
        }
        thread.start()
    }

    /// Waits for the audio thread to leave (after the stop signal).
    public func join() { finished.wait() }

    private func run() {
        prime()
        snd_pcm_start(capture.handle)
        let inputs = inputBuffers.map(\.pointer), outputs = outputBuffers.map(\.pointer)
        let period = Double(periodFrames) / Double(rate)
        var remaining = frameLimit ?? Int.max
        while !stop.isRaised && remaining > 0 {
            guard transfer(capture) else { return }
            nfx_allocation_counting_begin()
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            capture.format.read(captureRaw, frames: periodFrames, channels: channels, into: inputs)
            processor.beginCycle()
            let frames = min(periodFrames, remaining)
            processor.render(offset: 0, frameCount: frames)
            remaining -= frames
            playback.format.write(outputs, frames: periodFrames, channels: channels, to: playbackRaw)
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            let allocations = Int(nfx_allocation_counting_end())
            let elapsed = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
            processor.statistics.noteCallback(elapsed: elapsed, period: period, allocations: allocations)
            guard transfer(playback) else { return }
        }
        snd_pcm_drain(playback.handle)
        stop.raise()
    }

    /// Fills the playback buffer with silence so output starts a buffer late
    /// and never waits on the first capture.
    private func prime() {
        playbackRaw.initializeMemory(as: UInt8.self, repeating: 0, count: periodFrames * channels * playback.format.bytes)
        var queued = 0
        while queued < playback.bufferFrames {
            let r = snd_pcm_writei(playback.handle, playbackRaw, snd_pcm_uframes_t(periodFrames))
            if r < 0 { break }
            queued += Int(r)
        }
    }

    /// Reads or writes one whole period, recovering from xruns. Returns false
    /// (and raises the stop signal) when the device fails for good.
    private func transfer(_ pcm: AlsaPCM) -> Bool {
        var done = 0
        while done < periodFrames {
            let bytes = done * channels * pcm.format.bytes
            let r: Int = pcm.capture
                ? snd_pcm_readi(pcm.handle, captureRaw + bytes, snd_pcm_uframes_t(periodFrames - done))
                : snd_pcm_writei(pcm.handle, playbackRaw + bytes, snd_pcm_uframes_t(periodFrames - done))
            if r >= 0 { done += r; continue }
            let code = Int32(r)
            if code == -EAGAIN { continue }
            if code == -EPIPE || code == -ESTRPIPE || code == -EINTR {
                if code != -EINTR { processor.statistics.noteXrun() }
                if snd_pcm_recover(pcm.handle, code, 1) < 0 { break }
                if !pcm.capture { prime() } else { snd_pcm_start(pcm.handle) }
                continue
            }
            stop.raise("ALSA \(pcm.capture ? "capture" : "playback") failed: \(alsaError(code))", failure: true)
            return false
        }
        if done < periodFrames {
            stop.raise("ALSA \(pcm.capture ? "capture" : "playback") could not recover from an xrun", failure: true)
            return false
        }
        return true
    }
}
