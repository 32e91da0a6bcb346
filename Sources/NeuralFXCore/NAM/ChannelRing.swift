/// The input history of a dilated convolution, channel-major: each channel is
/// its own mirrored ring (every frame written twice, `ringFrames` apart), so
/// any window of one channel is a contiguous run of floats and a window's
/// channels lie `rowStride` apart. `CausalConv1d` keeps the same idea
/// time-major; the NAM kernels vectorize over time and need channel rows.
final class ChannelRing {
    let channels: Int
    let ringFrames: Int
    let data: FloatBuffer
    private var writeFrame = 0

    /// Keeps `history` past frames readable behind blocks of up to
    /// `maxFrames` (plus tile padding the reader may read beyond them).
    init(channels: Int, history: Int, maxFrames: Int) {
        var frames = 16
        while frames < history + maxFrames { frames <<= 1 }
        self.channels = channels
        ringFrames = frames
        data = FloatBuffer(count: channels * 2 * frames)
    }

    var rowStride: Int { 2 * ringFrames }

    /// Appends `frames` frames from channel rows `rowStride` apart.
    func push(_ source: UnsafePointer<Float>, sourceRowStride: Int, frames: Int) {
        let slot = writeFrame & (ringFrames - 1)
        if slot + frames <= ringFrames {
            // The usual case, no wrap: both copies in one pass of vector moves
            // (a library copy per channel costs more in calls than in bytes).
            for c in 0..<channels {
                let low = data.pointer + c * rowStride + slot, high = low + ringFrames, src = source + c * sourceRowStride
                var f = 0
                while f + 16 <= frames {
                    let v = SIMD16<Float>.load(src + f)
                    v.store(low + f)
                    v.store(high + f)
                    f += 16
                }
                while f < frames {
                    low[f] = src[f]
                    high[f] = src[f]
                    f += 1
                }
            }
            writeFrame = (writeFrame + frames) & (ringFrames - 1)
            return
        }
        for c in 0..<channels {
            let row = data.pointer + c * rowStride, src = source + c * sourceRowStride
            var f = 0
            while f < frames {
                let slot = (writeFrame + f) & (ringFrames - 1)
                let run = min(frames - f, ringFrames - slot)
                (row + slot).update(from: src + f, count: run)
                (row + slot + ringFrames).update(from: src + f, count: run)
                f += run
            }
        }
        writeFrame = (writeFrame + frames) & (ringFrames - 1)
    }

    /// Appends one frame: channel c's value is `values[c]`.
    @inline(__always)
    func push(frame values: UnsafePointer<Float>) {
        let slot = writeFrame & (ringFrames - 1)
        var p = data.pointer + slot
        for c in 0..<channels {
            p[0] = values[c]
            p[ringFrames] = values[c]
            p += rowStride
        }
        writeFrame = (writeFrame + 1) & (ringFrames - 1)
    }

    /// Channel 0 of the last pushed `frames` frames delayed by `delay`; the
    /// window continues contiguously for at least `ringFrames` frames.
    func window(frames: Int, delay: Int) -> UnsafePointer<Float> {
        UnsafePointer(data.pointer + ((writeFrame - frames - delay) & (ringFrames - 1)))
    }

    /// The newest frame of channel `c`.
    func newest(_ c: Int) -> Float { data.pointer[c * rowStride + ((writeFrame - 1) & (ringFrames - 1))] }

    /// Fills every channel's history with a constant (`values[c]`).
    func fill(_ values: UnsafePointer<Float>?) {
        writeFrame = 0
        for c in 0..<channels { (data.pointer + c * rowStride).update(repeating: values?[c] ?? 0, count: rowStride) }
    }

    var byteCount: Int { data.byteCount }
}
