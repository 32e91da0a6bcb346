import XCTest
import NeuralFXCore

final class ActivationTests: XCTestCase {
    func testScalarDefinitions() {
        XCTAssertEqual(Activation.apply(.prelu, -2, parameter: 0.25), -0.5)
        XCTAssertEqual(Activation.apply(.prelu, 3, parameter: 0.25), 3)
        XCTAssertEqual(Activation.apply(.relu, -1, parameter: 0), 0)
        XCTAssertEqual(Activation.apply(.tanh, 0.5, parameter: 0), 0.46211716, accuracy: 1e-6)
        XCTAssertEqual(Activation.apply(.sigmoid, 0, parameter: 0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(Activation.apply(.sigmoid, 2, parameter: 0), 0.88079708, accuracy: 1e-6)
        XCTAssertEqual(Activation.apply(.silu, 1, parameter: 0), 0.73105858, accuracy: 1e-6)
        XCTAssertEqual(Activation.apply(.gelu, 1, parameter: 0), 0.84134475, accuracy: 1e-6)
        XCTAssertEqual(Activation.apply(.gelu, -1, parameter: 0), -0.15865525, accuracy: 1e-6)
        // Snake: x + sin^2(a x) / a.
        XCTAssertEqual(Activation.apply(.snake, 1, parameter: 2), 1 + 0.82682181 / 2, accuracy: 1e-6)
        XCTAssertEqual(Activation.gated(0.5, 1), 0.46211716 * 0.73105858, accuracy: 1e-6)
    }

    func testChannelParametersApplyPerChannel() {
        let x: [Float] = [-1, -1, -1, 2, 2, 2]
        var y = [Float](repeating: 0, count: 6)
        let slopes: [Float] = [0.1, 0.2, 0.3]
        Activation.apply(.prelu, input: x, output: &y, frames: 2, channels: 3, parameters: slopes)
        XCTAssertEqual(y, [-0.1, -0.2, -0.3, 2, 2, 2])
        let a: [Float] = [1, 2, 3]
        Activation.apply(.snake, input: x, output: &y, frames: 2, channels: 3, parameters: a)
        for c in 0..<3 { XCTAssertEqual(y[3 + c], Activation.snake(2, a[c]), accuracy: 1e-7) }
    }

    func testGatedHalvesChannels() {
        let x: [Float] = [0.5, -0.5, 1, 2]  // one frame, 2 output channels
        var y = [Float](repeating: 0, count: 2)
        Activation.apply(.gated, input: x, output: &y, frames: 1, channels: 2, parameters: nil)
        XCTAssertEqual(y[0], Activation.gated(0.5, 1), accuracy: 1e-7)
        XCTAssertEqual(y[1], Activation.gated(-0.5, 2), accuracy: 1e-7)
    }
}

final class FiLMTests: XCTestCase {
    func testFoldEqualsBatchNormThenAffine() {
        var rng = SplitMix64(seed: 21)
        let c = 4
        let mean = (0..<c).map { _ in rng.nextFloat(in: -1...1) }
        let variance = (0..<c).map { _ in rng.nextFloat(in: 0.1...2) }
        let aw = (0..<(2 * c * 3)).map { _ in rng.nextFloat(in: -1...1) }
        let ab = (0..<(2 * c)).map { _ in rng.nextFloat(in: -1...1) }
        let film = FiLM(channels: c, runningMean: mean, runningVariance: variance,
                        adaptor: Dense(inputs: 3, outputs: 2 * c, weights: aw, bias: ab))
        let embedding: [Float] = [0.3, -0.7, 1.1]
        var scratch = [Float](repeating: 0, count: 2 * c)
        film.condition(on: embedding, scratch: &scratch)
        for ch in 0..<c {
            var gamma = ab[ch], beta = ab[c + ch]
            for i in 0..<3 { gamma += aw[ch * 3 + i] * embedding[i]; beta += aw[(c + ch) * 3 + i] * embedding[i] }
            let x: Float = 0.37
            let expected = (x - mean[ch]) / (variance[ch] + 1e-5).squareRoot() * gamma + beta
            XCTAssertEqual(x * film.scale[ch] + film.shift[ch], expected, accuracy: 1e-5)
        }
    }
}
