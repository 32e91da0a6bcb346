import XCTest
import NeuralFXCore
import NeuralFXTraining

/// The LSTM's exact gradient (backpropagation through time) against central
/// finite differences in double precision: every weight, the learned
/// initial states and the head included, for one and two layers, with and
/// without a burn-in, and with NAM's truncation.
final class LSTMGradientTests: XCTestCase {
    static let step = 1e-6
    static let absoluteTolerance = 1e-8
    static let relativeTolerance = 1e-5

    /// The training start with its zero initial states and head made random
    /// and everything scaled up, so every path carries a gradient well above rounding.
    static func network(_ config: LSTMConfig, seed: UInt64, batch: Int = 2, frames: Int = 6) -> LSTMTrainingNetwork<Double> {
        var rng = SplitMix64(seed: seed)
        let weights = config.trainingStart(seed: seed).map { Double($0) * 0.8 + rng.nextGaussian() * 0.3 }
        let net = LSTMTrainingNetwork<Double>(config: config, batchSize: batch, outputLength: frames, threads: 2, weights: weights)
        for b in 0..<batch { for t in 0..<net.inputLength { net.input(b)[t] = rng.nextGaussian() * 0.7 } }
        return net
    }

    func check(_ config: LSTMConfig, file: StaticString = #filePath, line: UInt = #line) {
        let net = Self.network(config, seed: 7)
        var rng = SplitMix64(seed: 99)
        let coefficients = (0..<net.batchSize).map { _ in (0..<net.outputLength).map { _ in rng.nextGaussian() } }
        // sum_b sum_t c[b][t] y[b][t]: its gradient with respect to the outputs is c.
        func objective() -> Double {
            net.forward()
            var total = 0.0
            for b in 0..<net.batchSize { for t in 0..<net.outputLength { total += coefficients[b][t] * net.output(b)[t] } }
            return total
        }
        _ = objective()
        for b in 0..<net.batchSize { for t in 0..<net.outputLength { net.outputGradient(b)[t] = coefficients[b][t] } }
        net.backward()
        let analytic = net.gradient
        XCTAssertEqual(analytic.count, config.weightCount, file: file, line: line)
        for i in 0..<net.parameters.count {
            let original = net.parameters[i]
            net.parameters[i] = original + Self.step
            let up = objective()
            net.parameters[i] = original - Self.step
            let down = objective()
            net.parameters[i] = original
            let numeric = (up - down) / (2 * Self.step)
            if abs(numeric - analytic[i]) > Self.absoluteTolerance + Self.relativeTolerance * abs(numeric) {
                XCTFail("weight \(i) of \(config.weightCount): analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
                return
            }
        }
        // Every weight moves the output (none is cut off).
        XCTAssertEqual(analytic.filter { $0 == 0 }.count, 0, "weights with no gradient", file: file, line: line)
    }

    func testOneLayer() { check(LSTMConfig(layers: 1, hiddenSize: 3, burnIn: 0)) }
    func testTwoLayers() { check(LSTMConfig(layers: 2, hiddenSize: 3, burnIn: 0)) }
    func testOneLayerWithBurnIn() { check(LSTMConfig(layers: 1, hiddenSize: 3, burnIn: 4)) }
    func testTwoLayersWithBurnIn() { check(LSTMConfig(layers: 2, hiddenSize: 3, burnIn: 4)) }
    /// A hidden size whose gates fill more than one vector, unevenly.
    func testWideLayers() { check(LSTMConfig(layers: 2, hiddenSize: 5, burnIn: 2)) }
    /// Gate rows and matrix columns that take both the paired and the single vector loops.
    func testNineCells() { check(LSTMConfig(layers: 2, hiddenSize: 9, burnIn: 3)) }

    /// NAM's `train_truncate` detaches the state entering each segment after
    /// the burn-in: the truncated gradient is the exact gradient of the first
    /// segment (checked above) plus that of the rest run from the state at
    /// the cut taken as given.
    func testTruncationIsTheSegmentsGradientsSummed() {
        var cut = LSTMConfig(layers: 2, hiddenSize: 3, burnIn: 2)
        cut.truncation = 3
        let (first, rest) = (3, 2)
        let truncated = Self.network(cut, seed: 5, batch: 1, frames: first + rest)
        var rng = SplitMix64(seed: 6)
        let c = (0..<(first + rest)).map { _ in rng.nextGaussian() }
        truncated.forward()
        for t in c.indices { truncated.outputGradient(0)[t] = c[t] }
        truncated.backward()

        var exact = cut
        exact.truncation = nil
        let head = LSTMTrainingNetwork<Double>(config: exact, batchSize: 1, outputLength: first, threads: 1, weights: truncated.parameters)
        head.input(0).update(from: truncated.input(0), count: head.inputLength)
        head.forward()
        for t in 0..<first { head.outputGradient(0)[t] = c[t] }
        head.backward()

        var after = exact
        after.burnIn = 0
        var weights = truncated.parameters
        let h = cut.hiddenSize
        let states = (0..<cut.layers).map { l in (l == 0 ? 4 * h * (1 + h) : 4 * h * (1 + h) + 4 * h + 2 * h + 4 * h * 2 * h) + 4 * h }
        for (l, s) in states.enumerated() {
            let (hidden, cell) = head.finalState(0, layer: l)
            for i in 0..<h { weights[s + i] = hidden[i]; weights[s + h + i] = cell[i] }
        }
        let tail = LSTMTrainingNetwork<Double>(config: after, batchSize: 1, outputLength: rest, threads: 1, weights: weights)
        tail.input(0).update(from: truncated.input(0) + head.inputLength, count: rest)
        tail.forward()
        for t in 0..<rest {
            XCTAssertEqual(tail.output(0)[t], truncated.output(0)[first + t], accuracy: 1e-12, "the forward pass is the same")
            tail.outputGradient(0)[t] = c[first + t]
        }
        tail.backward()
        var expected = zip(head.gradient, tail.gradient).map(+)
        // The state at the cut is given: the tail's initial-state gradients reach no weight.
        for s in states { for i in 0..<(2 * h) { expected[s + i] = head.gradient[s + i] } }
        for i in expected.indices {
            XCTAssertEqual(truncated.gradient[i], expected[i], accuracy: 1e-12 + 1e-9 * abs(expected[i]), "weight \(i)")
        }
        XCTAssertNotEqual(truncated.gradient, zip(head.gradient, tail.gradient).map(+))
    }

    func testGradientDoesNotDependOnThreadCount() {
        let config = LSTMConfig.nam
        func gradient(threads: Int) -> [Float] {
            var small = config
            small.burnIn = 16
            let net = LSTMTrainingNetwork<Float>(config: small, batchSize: 3, outputLength: 64, threads: threads,
                                                 weights: small.trainingStart(seed: 4))
            var rng = SplitMix64(seed: 1)
            for b in 0..<3 { for t in 0..<net.inputLength { net.input(b)[t] = rng.nextFloat(in: -1...1) } }
            net.forward()
            for b in 0..<3 { for t in 0..<64 { net.outputGradient(b)[t] = net.output(b)[t] } }
            net.backward()
            return net.gradient
        }
        XCTAssertEqual(gradient(threads: 1), gradient(threads: 2))
    }

    func testNAMsRecipeHasItsWeightCount() {
        // NAM's 3 x 18 LSTM: 4H(in + H) + 4H + 2H per layer, head H + 1.
        XCTAssertEqual(LSTMConfig.nam.weightCount, (72 * 19 + 72 + 36) + 2 * (72 * 36 + 72 + 36) + 19)
        XCTAssertNil(LSTMConfig.nam.problem)
        XCTAssertNotNil(LSTMConfig(layers: 5, hiddenSize: 18, burnIn: 0).problem)
    }
}
