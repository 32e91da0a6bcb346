import Foundation
import XCTest
import NeuralFXCore

final class FastTanhTests: XCTestCase {
    /// The stated bound holds on a dense grid over and beyond the clamp, and
    /// the vector form equals the scalar form.
    func testErrorBound() {
        var worst = 0.0
        var x: Float = -12
        while x <= 12 {
            worst = max(worst, abs(Double(FastTanh.tanh(x)) - Foundation.tanh(Double(x))))
            x += 1.0 / 4096
        }
        for v: Float in [0, 1e-30, -1e-30, 1e-6, 9, -9, 9.0001, 50, -1e30, .greatestFiniteMagnitude] {
            worst = max(worst, abs(Double(FastTanh.tanh(v)) - Foundation.tanh(Double(v))))
        }
        print("fast tanh: max absolute error \(worst)")
        XCTAssertLessThan(worst, Double(FastTanh.maxAbsoluteError))
        XCTAssertGreaterThan(worst, 1e-8, "the bound should be tight, not vacuous")
        let lanes = SIMD16<Float>((0..<16).map { Float($0) * 0.37 - 3 })
        let vector = FastTanh.tanh(lanes)
        for i in 0..<16 { XCTAssertEqual(vector[i], FastTanh.tanh(lanes[i])) }
        XCTAssertEqual(FastTanh.tanh(-0.5), -FastTanh.tanh(0.5))
    }
}
