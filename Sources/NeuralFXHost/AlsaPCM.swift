import CALSA
import Glibc

/// Sample formats fxhost speaks with ALSA, best first.
enum AlsaSampleFormat: CaseIterable {
    case float32, int32, int24, int16

    var alsa: snd_pcm_format_t {
        switch self {
        case .float32: return SND_PCM_FORMAT_FLOAT_LE
        case .int32: return SND_PCM_FORMAT_S32_LE
        case .int24: return SND_PCM_FORMAT_S24_LE
        case .int16: return SND_PCM_FORMAT_S16_LE
        }
    }

    var bytes: Int { self == .int16 ? 2 : 4 }
    var name: String { String(cString: snd_pcm_format_name(alsa)) }

    /// Interleaved device samples to one float buffer per channel.
    func read(_ raw: UnsafeRawPointer, frames: Int, channels: Int, into out: [UnsafeMutablePointer<Float>]) {
        for c in 0..<channels {
            let o = out[c]
            switch self {
            case .float32:
                let p = raw.assumingMemoryBound(to: Float.self)
                for i in 0..<frames { o[i] = p[i * channels + c] }
            case .int32:
                let p = raw.assumingMemoryBound(to: Int32.self)
                for i in 0..<frames { o[i] = Float(p[i * channels + c]) * (1 / 2147483648) }
            case .int24:
                // 24 bits in the low bytes of 32: shift up to sign-extend.
                let p = raw.assumingMemoryBound(to: Int32.self)
                for i in 0..<frames { o[i] = Float(p[i * channels + c] << 8) * (1 / 2147483648) }
            case .int16:
                let p = raw.assumingMemoryBound(to: Int16.self)
                for i in 0..<frames { o[i] = Float(p[i * channels + c]) * (1 / 32768) }
            }
        }
    }

    /// One float buffer per channel to interleaved device samples (clipped).
    func write(_ input: [UnsafeMutablePointer<Float>], frames: Int, channels: Int, to raw: UnsafeMutableRawPointer) {
        for c in 0..<channels {
            let x = input[c]
            switch self {
            case .float32:
                let p = raw.assumingMemoryBound(to: Float.self)
                for i in 0..<frames { p[i * channels + c] = x[i] }
            case .int32:
                let p = raw.assumingMemoryBound(to: Int32.self)
                for i in 0..<frames { p[i * channels + c] = Int32((Double(min(max(x[i], -1), 1)) * 2147483647).rounded()) }
            case .int24:
                let p = raw.assumingMemoryBound(to: Int32.self)
                for i in 0..<frames { p[i * channels + c] = Int32((min(max(x[i], -1), 1) * 8388607).rounded()) }
            case .int16:
                let p = raw.assumingMemoryBound(to: Int16.self)
                for i in 0..<frames { p[i * channels + c] = Int16((min(max(x[i], -1), 1) * 32767).rounded()) }
            }
        }
    }
}

/// One direction of an ALSA device, opened and configured for interleaved
/// access at an exact rate and channel count, in the best format it offers.
final class AlsaPCM {
    let handle: OpaquePointer
    let format: AlsaSampleFormat
    let periodFrames: Int
    let bufferFrames: Int
    let capture: Bool

    init(device: String, capture: Bool, rate: Int, channels: Int, period: Int, periods: Int) throws {
        self.capture = capture
        let what = capture ? "capture" : "playback"
        nfx_alsa_silence_errors()
        var h: OpaquePointer?
        var r = snd_pcm_open(&h, device, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, 0)
        guard r >= 0, let h else { throw HostError.alsa("cannot open ALSA device '\(device)' for \(what): \(alsaError(r))") }
        handle = h
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        func check(_ r: Int32, _ doing: String) throws {
            if r < 0 {
                snd_pcm_close(h)
                throw HostError.alsa("ALSA device '\(device)' (\(what)): cannot \(doing): \(alsaError(r))")
            }
        }
        try check(snd_pcm_hw_params_any(h, hw), "read its capabilities")
        try check(snd_pcm_hw_params_set_access(h, hw, SND_PCM_ACCESS_RW_INTERLEAVED), "use interleaved access")
        guard let f = AlsaSampleFormat.allCases.first(where: { snd_pcm_hw_params_test_format(h, hw, $0.alsa) == 0 }) else {
            snd_pcm_close(h)
            throw HostError.alsa("ALSA device '\(device)' (\(what)) offers none of FLOAT_LE, S32_LE, S24_LE, S16_LE")
        }
        format = f
        try check(snd_pcm_hw_params_set_format(h, hw, f.alsa), "set format \(f.name)")
        try check(snd_pcm_hw_params_set_channels(h, hw, UInt32(channels)), "use \(channels) channel(s)")
        try check(snd_pcm_hw_params_set_rate_resample(h, hw, 0), "disable resampling")
        try check(snd_pcm_hw_params_set_rate(h, hw, UInt32(rate), 0), "run at \(rate) Hz")
        var p = snd_pcm_uframes_t(period)
        var dir: Int32 = 0
        try check(snd_pcm_hw_params_set_period_size_near(h, hw, &p, &dir), "use a period of \(period) frames")
        var b = snd_pcm_uframes_t(Int(p) * periods)
        try check(snd_pcm_hw_params_set_buffer_size_near(h, hw, &b), "use \(periods) periods")
        try check(snd_pcm_hw_params(h, hw), "apply the settings")
        periodFrames = Int(p)
        bufferFrames = Int(b)
        if !capture {
            // Start only once the buffer is primed, so the first period
            // cannot underrun.
            var sw: OpaquePointer?
            snd_pcm_sw_params_malloc(&sw)
            defer { snd_pcm_sw_params_free(sw) }
            snd_pcm_sw_params_current(h, sw)
            snd_pcm_sw_params_set_start_threshold(h, sw, snd_pcm_uframes_t(bufferFrames))
            r = snd_pcm_sw_params(h, sw)
            try check(r, "set the start threshold")
        }
    }

    deinit { snd_pcm_close(handle) }
}

func alsaError(_ code: Int32) -> String { String(cString: snd_strerror(code)) }

/// `--list-devices`: the PCM names ALSA knows (hints), with descriptions.
public enum AlsaDevices {
    public static func list() throws -> [String] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        let r = snd_device_name_hint(-1, "pcm", &hints)
        guard r >= 0, let hints else { throw HostError.alsa("cannot list ALSA devices: \(alsaError(r))") }
        defer { snd_device_name_free_hint(hints) }
        var lines: [String] = []
        var i = 0
        while let hint = hints[i] {
            i += 1
            func field(_ id: String) -> String? {
                guard let v = snd_device_name_get_hint(hint, id) else { return nil }
                defer { free(v) }
                return String(cString: v)
            }
            guard let name = field("NAME") else { continue }
            let description = (field("DESC") ?? "").split(separator: "\n").joined(separator: " - ")
            lines.append(description.isEmpty ? name : "\(name)\t\(description)")
        }
        return lines
    }
}
