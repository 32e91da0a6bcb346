import Foundation
import XCTest
import NeuralFXCore
import NeuralFXDatasets
import NeuralFXDevices
import NeuralFXEvaluation
import NeuralFXModelFiles

/// The shipped compressor where the first model broke (issue 17): at full
/// peak reduction in both modes it must beat the best constant gain on
/// fresh material, and after a loud burst its gain must come back as the
/// device's does.
final class ShippedLA2ATests: XCTestCase {
    func comparison() throws -> DeviceComparison {
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try ModelFile.load(path: repository.appendingPathComponent("models/la2a.safetensors").path)
        return try DeviceComparison(model: model, device: .la2a)
    }

    func testFullPeakReductionBeatsTheBestConstantGain() throws {
        let c = try comparison()
        let input = DryMaterial(sampleRate: 44_100).render(seconds: 6, seed: 31)
        for mode in [0.0, 1.0] {
            let score = c.score(input, setting: [mode, 1], description: "")
            XCTAssertGreaterThan(score.sums.identityESR, 10, "the device must compress hard for the test to mean anything")
            XCTAssertLessThan(score.esr, 0.8 * score.sums.fixedGainESR, "mode \(mode)")
            XCTAssertLessThan(abs(score.loudnessError), 1, "mode \(mode)")
        }
    }

    func testGainAfterABurstFollowsTheDevice() throws {
        let c = try comparison()
        for setting in [[0, 0.5], [0, 1], [1, 0.5], [1, 1]] {
            let test = BurstRecovery(c, setting: setting)
            XCTAssertGreaterThan(test.deviceRecovery, 5)
            // Issue 17's goal: within 1 dB over the 3 s after the burst.
            XCTAssertLessThan(test.recoveryError.decibels, 1, "setting \(setting)")
        }
    }
}
