import CALSA
import CAllocationCounter
import Foundation
import Glibc
import Synchronization

/// Plays and records through one ALSA device, a period at a time, on its
/// own thread (real-time priority where the system allows). The device is
/// opened afresh for every run, each stream starting from the same state,
/// and capture and playback are linked where the driver allows so both
/// start on the same frame: the round trip is then the same every run.
/// Recording index 0 is the frame the signal's first sample was written
/// for, after the primed buffer of silence.
public final class AlsaPlayRecord: PlayRecordDevice {
    public let sampleRate: Int
    public let route: String
    let device: String
    let period: Int
    let periods: Int
    let channels: Int
    let capacity: Int
    // Preallocated for the audio thread.
    let signal: UnsafeMutablePointer<Float>
    let recording: UnsafeMutablePointer<Float>

    /// Opens the device once to check it (and to find a channel count it
    /// takes: mono, else stereo with the signal on channel 1).
    public init(device: String, rate: Int, period: Int = 256, periods: Int = 3, capacity: Int) throws {
        guard period > 0, periods >= 2 else { throw HostError.badArgument("--period must be positive and --periods at least 2") }
        self.device = device
        self.period = period
        self.periods = periods
        self.capacity = capacity
        var lastError: Error?
        var found: Int?
        for c in [1, 2] {
            do {
                _ = try AlsaPCM(device: device, capture: true, rate: rate, channels: c, period: period, periods: periods)
                _ = try AlsaPCM(device: device, capture: false, rate: rate, channels: c, period: period, periods: periods)
                found = c
                break
            } catch { lastError = error }
        }
        guard let c = found else { throw lastError ?? HostError.alsa("cannot open ALSA device '\(device)'") }
        channels = c
        sampleRate = rate
        route = "alsa: \(device) at \(rate) Hz, channel 1 of \(c)"
        signal = .allocate(capacity: capacity)
        recording = .allocate(capacity: capacity)
    }

    deinit {
        signal.deallocate()
        recording.deallocate()
    }

    /// The silence primed into the playback buffer before the signal (the
    /// last run's; known once a run has opened the device).
    public private(set) var bufferLatency: Int?

    public func playAndRecord(_ samples: [Float], recordFrames: Int, ceiling: Float, stop: StopSignal,
                              progress: (PlayRecordProgress) -> Void) throws -> PlayRecordResult? {
        guard samples.count <= capacity, recordFrames <= capacity else {
            throw HostError.badArgument("the signal is longer than the buffers made for it")
        }
        let capture = try AlsaPCM(device: device, capture: true, rate: sampleRate, channels: channels, period: period, periods: periods)
        let playback = try AlsaPCM(device: device, capture: false, rate: sampleRate, channels: channels, period: period, periods: periods)
        guard capture.periodFrames == playback.periodFrames else {
            throw HostError.alsa("ALSA device '\(device)' gives different capture and playback periods")
        }
        bufferLatency = playback.bufferFrames
        samples.withUnsafeBufferPointer { signal.update(from: $0.baseAddress!, count: samples.count) }
        recording.update(repeating: 0, count: recordFrames)
        let run = AlsaRun(capture: capture, playback: playback, channels: channels, signal: signal, count: samples.count,
                          recording: recording, total: recordFrames, ceiling: ceiling, stop: stop)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            var param = sched_param(sched_priority: 70)
            _ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param)
            run.run()
            finished.signal()
        }
        thread.start()
        while finished.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            progress(PlayRecordProgress(done: run.recorded.load(ordering: .acquiring), total: recordFrames,
                                        sendPeak: run.sendMeter.take(), returnPeak: run.returnMeter.take()))
        }
        progress(PlayRecordProgress(done: run.recorded.load(ordering: .acquiring), total: recordFrames,
                                    sendPeak: run.sendMeter.take(), returnPeak: run.returnMeter.take()))
        if let failure = run.failure.withLock({ $0 }) { throw HostError.alsa(failure) }
        if run.recorded.load(ordering: .acquiring) < recordFrames { return nil }
        return PlayRecordResult(recording: Array(UnsafeBufferPointer(start: recording, count: recordFrames)),
                                xruns: run.xruns.load(ordering: .relaxed), callbackAllocations: run.allocations.load(ordering: .relaxed))
    }
}

/// One run on the audio thread: everything it touches exists before it starts.
final class AlsaRun: @unchecked Sendable {
    let capture: AlsaPCM
    let playback: AlsaPCM
    let channels: Int
    let frames: Int
    let signal: UnsafeMutablePointer<Float>
    let count: Int
    let recording: UnsafeMutablePointer<Float>
    let total: Int
    let ceiling: Float
    let stop: StopSignal
    let recorded = Atomic<Int>(0)
    let xruns = Atomic<Int>(0)
    /// Heap allocations counted while exchanging periods (the real-time tests want 0).
    let allocations = Atomic<Int>(0)
    let sendMeter = PeakMeter()
    let returnMeter = PeakMeter()
    let failure = Mutex<String?>(nil)
    let captureRaw: UnsafeMutableRawPointer
    let playbackRaw: UnsafeMutableRawPointer
    let channelBuffers: [UnsafeMutablePointer<Float>]

    init(capture: AlsaPCM, playback: AlsaPCM, channels: Int, signal: UnsafeMutablePointer<Float>, count: Int,
         recording: UnsafeMutablePointer<Float>, total: Int, ceiling: Float, stop: StopSignal) {
        self.capture = capture
        self.playback = playback
        self.channels = channels
        frames = capture.periodFrames
        self.signal = signal
        self.count = count
        self.recording = recording
        self.total = total
        self.ceiling = ceiling
        self.stop = stop
        captureRaw = .allocate(byteCount: frames * channels * capture.format.bytes, alignment: 16)
        playbackRaw = .allocate(byteCount: frames * channels * playback.format.bytes, alignment: 16)
        channelBuffers = (0..<channels).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capture.periodFrames)
            p.initialize(repeating: 0, count: capture.periodFrames)
            return p
        }
    }

    deinit {
        captureRaw.deallocate()
        playbackRaw.deallocate()
        channelBuffers.forEach { $0.deallocate() }
    }

    func run() {
        // Linked streams start together; plugins that cannot link start one after the other.
        let linked = snd_pcm_link(capture.handle, playback.handle) == 0
        playbackRaw.initializeMemory(as: UInt8.self, repeating: 0, count: frames * channels * playback.format.bytes)
        var queued = 0
        while queued < playback.bufferFrames {
            let r = snd_pcm_writei(playback.handle, playbackRaw, snd_pcm_uframes_t(frames))
            if r < 0 { fail("ALSA playback failed while priming: \(alsaError(Int32(r)))"); return }
            queued += r
        }
        if snd_pcm_state(capture.handle) != SND_PCM_STATE_RUNNING { snd_pcm_start(capture.handle) }
        var played = 0, done = 0
        while done < total {
            if stop.isRaised { break }
            guard transfer(capture, capture: true) else { break }
            nfx_allocation_counting_begin()
            capture.format.read(captureRaw, frames: frames, channels: channels, into: channelBuffers)
            let input = channelBuffers[0]
            var peak: Float = 0
            let n = min(frames, total - done)
            for i in 0..<n { recording[done + i] = input[i]; peak = max(peak, abs(input[i])) }
            returnMeter.raise(peak)
            done += n
            recorded.store(done, ordering: .releasing)

            let out = channelBuffers[0]
            peak = 0
            for i in 0..<frames {
                let k = played + i
                let v = k < count ? min(max(signal[k], -ceiling), ceiling) : 0
                out[i] = v
                peak = max(peak, abs(v))
            }
            for c in 1..<max(channels, 1) { channelBuffers[c].update(repeating: 0, count: frames) }
            sendMeter.raise(peak)
            played += frames
            playback.format.write(channelBuffers, frames: frames, channels: channels, to: playbackRaw)
            allocations.add(Int(nfx_allocation_counting_end()), ordering: .relaxed)
            guard transfer(playback, capture: false) else { break }
        }
        snd_pcm_drop(playback.handle)
        snd_pcm_drop(capture.handle)
        if linked { snd_pcm_unlink(capture.handle) }
    }

    private func fail(_ message: String) { failure.withLock { if $0 == nil { $0 = message } } }

    /// One whole period in or out; an xrun is counted and recovered from
    /// (the run's audio has a gap then, which calibration reports).
    private func transfer(_ pcm: AlsaPCM, capture isCapture: Bool) -> Bool {
        var done = 0
        while done < frames {
            let raw = isCapture ? captureRaw : playbackRaw
            let bytes = done * channels * pcm.format.bytes
            let r: Int = isCapture
                ? snd_pcm_readi(pcm.handle, raw + bytes, snd_pcm_uframes_t(frames - done))
                : snd_pcm_writei(pcm.handle, raw + bytes, snd_pcm_uframes_t(frames - done))
            if r >= 0 { done += r; continue }
            let code = Int32(r)
            if code == -EAGAIN || code == -EINTR { continue }
            if code == -EPIPE || code == -ESTRPIPE {
                xruns.add(1, ordering: .relaxed)
                if snd_pcm_recover(pcm.handle, code, 1) < 0 { break }
                if isCapture { snd_pcm_start(pcm.handle) }
                continue
            }
            fail("ALSA \(isCapture ? "capture" : "playback") failed: \(alsaError(code)) (was the device unplugged?)")
            return false
        }
        if done < frames {
            fail("ALSA \(isCapture ? "capture" : "playback") could not recover from an xrun")
            return false
        }
        return true
    }
}
