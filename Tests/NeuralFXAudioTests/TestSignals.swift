import Foundation
import NeuralFXAudio

/// A fresh directory under the system temp dir, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "nfx-audio-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A sine of `amplitude` (full scale 1) at `frequency`, `frames` long.
func sine(frequency: Double, amplitude: Double, sampleRate: Double, frames: Int, phase: Double = 0) -> [Float] {
    (0..<frames).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / sampleRate + phase)) }
}

/// Deterministic test music: a few partials and a little noise, below full scale.
func testSignal(channel: Int, sampleRate: Double, frames: Int) -> [Float] {
    var seed = UInt64(0x9E37_79B9 &+ channel)
    return (0..<frames).map { i in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        let noise = Double(Int64(bitPattern: seed >> 11) % 1000) / 1000 * 0.05
        let t = Double(i) / sampleRate
        return Float(0.4 * sin(2 * .pi * (220 + 110 * Double(channel)) * t) + 0.3 * sin(2 * .pi * 1375 * t) + noise)
    }
}

/// Writes per-channel arrays to a file in a few irregular blocks.
func writeFile(_ path: String, _ channels: [[Float]], sampleRate: Int, sampleFormat: AudioSampleFormat,
               container: AudioContainer? = nil) throws {
    let writer = try AudioFileWriter(path: path, sampleRate: sampleRate, channels: channels.count,
                                     container: container, sampleFormat: sampleFormat)
    let frames = channels[0].count
    var offset = 0
    var block = 1
    while offset < frames {
        let n = min(block, frames - offset)
        var interleaved = [Float](repeating: 0, count: n * channels.count)
        for i in 0..<n { for c in channels.indices { interleaved[i * channels.count + c] = channels[c][offset + i] } }
        try interleaved.withUnsafeBufferPointer { try writer.write($0.baseAddress!, frames: n) }
        offset += n
        block = block * 3 + 7
    }
    try writer.finish()
}

func rms(_ x: ArraySlice<Float>) -> Double {
    (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
}

/// Frequency estimated from rising zero crossings (linear interpolation).
func estimatedFrequency(_ x: ArraySlice<Float>, sampleRate: Double) -> Double {
    var crossings: [Double] = []
    var previous = x.startIndex
    for i in x.indices.dropFirst() {
        if x[previous] < 0 && x[i] >= 0 {
            crossings.append(Double(previous) + Double(-x[previous] / (x[i] - x[previous])))
        }
        previous = i
    }
    guard let first = crossings.first, let last = crossings.last, crossings.count > 1 else { return 0 }
    return Double(crossings.count - 1) * sampleRate / (last - first)
}
