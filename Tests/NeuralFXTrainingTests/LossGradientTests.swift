import XCTest
import NeuralFXCore
import NeuralFXTraining

/// Each loss term's exact gradient against central finite differences in
/// double precision, and its value against a direct computation.
final class LossGradientTests: XCTestCase {
    func signals(_ n: Int, seed: UInt64) -> ([Double], [Double]) {
        var rng = SplitMix64(seed: seed)
        let t = (0..<n).map { i in 0.5 * Double.sin(Double(i) * 0.21) + 0.1 * rng.nextGaussian() }
        let y = t.map { 0.8 * $0 + 0.05 * rng.nextGaussian() }
        return (y, t)
    }

    func check(_ loss: LossFunction, n: Int, tolerance: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        var (y, t) = signals(n, seed: 21)
        var g = [Double](repeating: 0, count: n)
        let value = loss.evaluate(prediction: y, target: t, count: n, gradient: &g)
        XCTAssertGreaterThan(value, 0, file: file, line: line)
        let h = 1e-6
        for i in 0..<n {
            let original = y[i]
            y[i] = original + h
            let up = loss.evaluate(prediction: y, target: t, count: n, gradient: nil)
            y[i] = original - h
            let down = loss.evaluate(prediction: y, target: t, count: n, gradient: nil)
            y[i] = original
            let numeric = (up - down) / (2 * h)
            if abs(numeric - g[i]) > 1e-9 + tolerance * abs(numeric) {
                XCTFail("\(loss) sample \(i): analytic \(g[i]) numeric \(numeric)", file: file, line: line)
                return
            }
        }
        t[0] += 0  // silence the unused-mutation warning for `t`
    }

    func testL1() { check(LossFunction([.l1]), n: 200) }
    func testMSE() { check(LossFunction([.mse]), n: 200) }
    func testESR() { check(LossFunction([.esr(preEmphasis: nil)]), n: 200) }
    func testPreEmphasizedESR() { check(LossFunction([.esr(preEmphasis: 0.95)]), n: 200) }
    func testSingleResolutionSTFT() { check(LossFunction([.stft(sizes: [64])]), n: 300, tolerance: 1e-5) }
    func testMultiResolutionSTFT() { check(LossFunction([.stft(sizes: [128, 64, 32])]), n: 300, tolerance: 1e-5) }
    func testDefaultCompositeLosses() {
        check(try! LossFunction(parsing: "l1+stft=64"), n: 260, tolerance: 1e-5)
        check(try! LossFunction(parsing: "esr-pre+stft=64,32"), n: 260, tolerance: 1e-5)
    }

    /// A weight scales its term's value and gradient, and only its own.
    func testWeightedTerms() {
        for text in ["0.25*l1+mse", "mse+0.003*stft=64,32", "2.5*esr-pre=0.85+0.1*l1"] {
            check(try! LossFunction(parsing: text), n: 260, tolerance: 1e-5)
        }
        let (y, t) = signals(300, seed: 5)
        let plain = try! LossFunction(parsing: "mse+stft=64"), weighted = try! LossFunction(parsing: "mse+0.01*stft=64")
        let stft = LossFunction([.stft(sizes: [64])]), mse = LossFunction([.mse])
        func value(_ f: LossFunction) -> Double { f.evaluate(prediction: y, target: t, count: y.count, gradient: nil) }
        XCTAssertEqual(value(plain), value(mse) + value(stft), accuracy: 1e-12)
        XCTAssertEqual(value(weighted), value(mse) + 0.01 * value(stft), accuracy: 1e-12)
        XCTAssertEqual(weighted.description, "mse+0.01*stft=64")
        XCTAssertEqual(try LossFunction(parsing: weighted.description), weighted)
        for bad in ["0*mse", "-1*mse", "x*mse", "nan*mse", "0.1*", "0.1*l3"] {
            XCTAssertThrowsError(try LossFunction(parsing: bad), bad)
        }
    }

    func testValues() {
        let t: [Double] = [1, -1, 0.5, 0]
        let y: [Double] = [0.5, -1, 0, 0.25]
        XCTAssertEqual(LossFunction([.l1]).evaluate(prediction: y, target: t, count: 4, gradient: nil), 1.25 / 4, accuracy: 1e-12)
        XCTAssertEqual(LossFunction([.mse]).evaluate(prediction: y, target: t, count: 4, gradient: nil), 0.5625 / 4, accuracy: 1e-12)
        XCTAssertEqual(LossFunction([.esr(preEmphasis: nil)]).evaluate(prediction: y, target: t, count: 4, gradient: nil),
                       0.5625 / 2.25, accuracy: 1e-8)
        // A perfect prediction has zero STFT loss; one at half the level has
        // spectral convergence 0.5 and log distance log 2 (noise fills every
        // bin far above the magnitude floor).
        var rng = SplitMix64(seed: 8)
        let noise = (0..<512).map { _ in rng.nextGaussian() }
        XCTAssertEqual(LossFunction([.stft(sizes: [128])]).evaluate(prediction: noise, target: noise, count: 512, gradient: nil),
                       0, accuracy: 1e-9)
        let half = noise.map { $0 * 0.5 }
        let value = LossFunction([.stft(sizes: [128])]).evaluate(prediction: half, target: noise, count: 512, gradient: nil)
        XCTAssertEqual(value, 0.5 + Double.log(2), accuracy: 1e-3)
    }

    func testFFTMatchesDirectDFT() {
        let n = 32
        let fft = FFT<Double>(size: n)
        var re = (0..<n).map { Double.sin(Double($0 * $0) * 0.1) }, im = [Double](repeating: 0, count: n)
        let x = re
        fft.transform(real: &re, imaginary: &im, sign: -1)
        for k in 0..<n {
            var r = 0.0, i = 0.0
            for j in 0..<n { r += x[j] * Double.cos(2 * .pi * Double(k * j) / Double(n)); i -= x[j] * Double.sin(2 * .pi * Double(k * j) / Double(n)) }
            XCTAssertEqual(re[k], r, accuracy: 1e-10)
            XCTAssertEqual(im[k], i, accuracy: 1e-10)
        }
    }

    func testParsing() throws {
        XCTAssertEqual(try LossFunction(parsing: "l1+stft"), LossFunction([.l1, .stft(sizes: [1024])]))
        XCTAssertEqual(try LossFunction(parsing: "esr-pre+mrstft"), LossFunction([.esr(preEmphasis: 0.95), .stft(sizes: [2048, 1024, 512])]))
        XCTAssertThrowsError(try LossFunction(parsing: "l3"))
        XCTAssertThrowsError(try LossFunction(parsing: "stft=100"))
    }
}
