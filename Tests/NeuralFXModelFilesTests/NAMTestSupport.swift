import Foundation
import NeuralFXCore
import NeuralFXModelFiles

/// Runs a fresh network over `x` in blocks of the given sizes (cycled).
func render(_ blueprint: any NetworkBlueprint, _ x: [Float], blocks: [Int]) -> [Float] {
    let net = blueprint.makeNetwork()
    net.prepare(maxBlockSize: blocks.max()!)
    var y = [Float](repeating: 0, count: x.count)
    var at = 0, i = 0
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            while at < x.count {
                let n = min(blocks[i % blocks.count], x.count - at)
                net.process(xp.baseAddress! + at, yp.baseAddress! + at, frameCount: n)
                at += n
                i += 1
            }
        }
    }
    return y
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }

/// Block sizes from a seeded generator: 1...maxBlock, with 1 and maxBlock included.
func randomBlockSizes(count: Int, maxBlock: Int, seed: UInt64) -> [Int] {
    var rng = SplitMix64(seed: seed)
    return [1, maxBlock] + (0..<count).map { _ in 1 + Int(rng.next() % UInt64(maxBlock)) }
}

/// The blueprint with exact activations (Linear has none).
func exact(_ blueprint: any NetworkBlueprint) -> any NetworkBlueprint {
    if let wave = blueprint as? NAMWaveNetBlueprint { return wave.with(precision: .exact) }
    if let lstm = blueprint as? NAMLSTMBlueprint { return lstm.with(precision: .exact) }
    return blueprint
}
