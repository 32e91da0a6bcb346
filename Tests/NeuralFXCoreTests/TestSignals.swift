import NeuralFXCore

/// Deterministic test material: a tone with an on/off envelope plus noise, so
/// every layer sees both loud and quiet passages.
func testSignal(_ n: Int, seed: UInt64 = 7) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { i in
        let t = Float(i) / 44100
        let gate: Float = (i / 700) % 2 == 0 ? 0.8 : 0.05
        return gate * (0.7 * sinf32(2 * .pi * 330 * t) + 0.3 * rng.nextFloat(in: -1...1))
    }
}

func sinf32(_ x: Float) -> Float {
    // Taylor-free sine via Double's stdlib-free path: reduce and use a polynomial good to 1e-7.
    var v = Double(x).truncatingRemainder(dividingBy: 2 * .pi)
    if v > .pi { v -= 2 * .pi } else if v < -.pi { v += 2 * .pi }
    var term = v, sum = v
    for k in 1..<12 { term *= -v * v / Double((2 * k) * (2 * k + 1)); sum += term }
    return Float(sum)
}

/// Splits `n` into random block lengths in 1...maxBlock (ones included often).
func randomBlocks(total n: Int, maxBlock: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed)
    var out: [Int] = []
    var left = n
    while left > 0 {
        let r = rng.next() % 4
        let len = r == 0 ? 1 : Int(rng.next() % UInt64(maxBlock)) + 1
        out.append(min(len, left))
        left -= out.last!
    }
    return out
}

/// Runs a network over a signal in the given block lengths.
func stream(_ net: any StreamingNetwork, _ x: [Float], blocks: [Int]) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    var at = 0
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            for b in blocks {
                net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: b)
                at += b
            }
        }
    }
    return y
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
