import CSampleRate

/// Why a resampler could not be made or run.
public struct ResamplerError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { "resampling failed: \(reason)" }
}

/// Converts interleaved float audio from one sample rate to another with
/// libsamplerate's sinc converter, block by block (memory stays flat for any
/// length). Its output does not depend on how the input is cut into blocks,
/// to the bit, so a file rendered offline and the same stream played live in
/// any period give the same samples.
///
/// Latency: the output is time-aligned with the input (an impulse at input
/// time t comes out at t, no signal delay), but the converter holds back
/// what it has not yet seen enough future for: `heldBackFrames` (about 50
/// output frames) until `finish` releases them. Over a whole stream the
/// output has `expectedOutputFrames` frames (input frames times the ratio,
/// rounded), so a file converted to another rate and back keeps its length
/// and timing.
public final class StreamingResampler {
    /// libsamplerate's medium sinc: 121 dB signal to noise and flat to 90% of
    /// the lower Nyquist frequency (19.8 kHz at 44.1 kHz), holding back a
    /// third of what the best converter does (48 kHz to 44.1 kHz and back:
    /// about 100 frames, 2 ms, where the best holds 316). Live streams pay
    /// that hold-back as latency, and offline renders use the same converter
    /// so that they equal what plays live.
    public static let converter = SRC_SINC_MEDIUM_QUALITY

    public let inputRate: Double
    public let outputRate: Double
    public let channels: Int
    public var ratio: Double { outputRate / inputRate }

    public private(set) var inputFramesConsumed: Int64 = 0
    public private(set) var outputFramesEmitted: Int64 = 0

    private var state: OpaquePointer?
    private let blockFrames: Int
    private let outputBuffer: UnsafeMutablePointer<Float>
    private let outputCapacity: Int

    public init(from inputRate: Double, to outputRate: Double, channels: Int, blockFrames: Int = 4096) throws {
        precondition(channels > 0 && blockFrames > 0)
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.channels = channels
        self.blockFrames = blockFrames
        guard inputRate > 0, outputRate > 0, src_is_valid_ratio(outputRate / inputRate) != 0 else {
            throw ResamplerError(reason: "cannot convert \(inputRate) Hz to \(outputRate) Hz (ratio out of range)")
        }
        var error: Int32 = 0
        guard let s = src_new(Int32(Self.converter), Int32(channels), &error) else {
            throw ResamplerError(reason: String(cString: src_strerror(error)))
        }
        state = s
        outputCapacity = Int((Double(blockFrames) * outputRate / inputRate).rounded(.up)) + 16
        outputBuffer = .allocate(capacity: outputCapacity * channels)
    }

    deinit {
        if let s = state { src_delete(s) }
        outputBuffer.deallocate()
    }

    /// Output frames the whole stream so far should produce once finished.
    public var expectedOutputFrames: Int64 { Int64((Double(inputFramesConsumed) * ratio).rounded()) }

    /// Output frames owed for the input consumed so far but not yet emitted:
    /// the converter's buffering latency at this moment.
    public var heldBackFrames: Int64 { max(expectedOutputFrames - outputFramesEmitted, 0) }

    /// Feeds `frames` interleaved frames; `sink` receives each piece of
    /// output (interleaved) as it is produced.
    public func process(_ input: UnsafePointer<Float>, frames: Int,
                        sink: (UnsafePointer<Float>, Int) throws -> Void) throws {
        var offset = 0
        while offset < frames {
            let n = min(blockFrames, frames - offset)
            var used = 0
            while used < n {
                let (consumed, produced) = try convert(input + (offset + used) * channels, frames: n - used, end: false)
                used += consumed
                inputFramesConsumed += Int64(consumed)
                try emit(produced, sink: sink)
                if consumed == 0 && produced == 0 { break }
            }
            offset += n
        }
    }

    /// Ends the stream: releases the frames held back, then trims or pads
    /// with silence so the total is `totalOutputFrames` (by default
    /// `expectedOutputFrames`).
    public func finish(totalOutputFrames: Int64? = nil, sink: (UnsafePointer<Float>, Int) throws -> Void) throws {
        let total = totalOutputFrames ?? expectedOutputFrames
        var silence: Float = 0
        while true {
            let (_, produced) = try withUnsafePointer(to: &silence) { try convert($0, frames: 0, end: true) }
            if produced == 0 { break }
            try emit(min(produced, Int(max(total - outputFramesEmitted, 0))), sink: sink)
        }
        var missing = Int(max(total - outputFramesEmitted, 0))
        if missing > 0 { outputBuffer.update(repeating: 0, count: outputCapacity * channels) }
        while missing > 0 {
            let n = min(missing, outputCapacity)
            try emit(n, sink: sink)
            missing -= n
        }
    }

    /// For real-time threads: converts all `frames` input frames into
    /// `output` (room for `capacity` frames) and returns how many it wrote.
    /// Allocates, locks and logs nothing. `capacity` of at least
    /// `maxOutput(forInput: frames)` holds everything the input can release.
    public func convert(_ input: UnsafePointer<Float>, frames: Int, into output: UnsafeMutablePointer<Float>, capacity: Int) -> Int {
        var used = 0, written = 0
        while used < frames && written < capacity {
            var data = SRC_DATA()
            data.data_in = input + used * channels
            data.data_out = output + written * channels
            data.input_frames = frames - used
            data.output_frames = capacity - written
            data.end_of_input = 0
            data.src_ratio = ratio
            guard src_process(state, &data) == 0, data.input_frames_used > 0 || data.output_frames_gen > 0 else { break }
            used += data.input_frames_used
            written += data.output_frames_gen
        }
        inputFramesConsumed += Int64(used)
        outputFramesEmitted += Int64(written)
        return written
    }

    private func convert(_ input: UnsafePointer<Float>, frames: Int, end: Bool) throws -> (consumed: Int, produced: Int) {
        var data = SRC_DATA()
        data.data_in = input
        data.data_out = outputBuffer
        data.input_frames = frames
        data.output_frames = outputCapacity
        data.end_of_input = end ? 1 : 0
        data.src_ratio = ratio
        let error = src_process(state, &data)
        if error != 0 { throw ResamplerError(reason: String(cString: src_strerror(error))) }
        return (data.input_frames_used, data.output_frames_gen)
    }

    private func emit(_ frames: Int, sink: (UnsafePointer<Float>, Int) throws -> Void) throws {
        guard frames > 0 else { return }
        outputFramesEmitted += Int64(frames)
        try sink(UnsafePointer(outputBuffer), frames)
    }
}
