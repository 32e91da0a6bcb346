import XCTest
import NeuralFXCore

final class KnobSchemaTests: XCTestCase {
    let schema = compressorKnobs()

    func testParsesNumbersAndPositions() throws {
        XCTAssertEqual(try schema.setting("peak=0.4").value, 0.4)
        XCTAssertEqual(try schema.setting("mode=limit").value, 1)
        XCTAssertEqual(try schema.setting("mode=Compress").value, 0)
        XCTAssertEqual(try schema.setting(" peak = 1 ").index, 1)
    }

    func testRefusesWithOneLineReasons() {
        XCTAssertThrowsError(try schema.setting("gain=1")) { e in
            XCTAssertEqual("\(e)", "unknown knob 'gain'; valid knobs: mode, peak")
        }
        XCTAssertThrowsError(try schema.setting("peak=1.5")) { e in
            XCTAssertEqual("\(e)", "knob 'peak': value 1.5 is outside its range 0..1")
        }
        XCTAssertThrowsError(try schema.setting("peak=abc")) { e in XCTAssertTrue("\(e)".contains("not a number")) }
        XCTAssertThrowsError(try schema.setting("peak=nan")) { e in XCTAssertTrue("\(e)".contains("not a number")) }
        XCTAssertThrowsError(try schema.setting("mode=fast")) { e in XCTAssertTrue("\(e)".contains("compress, limit")) }
        XCTAssertThrowsError(try schema.setting("peak")) { e in XCTAssertTrue("\(e)".contains("name=value")) }
    }

    func testMapsValuesToConditioning() {
        let knobs = KnobSchema([
            .continuous("gain", label: "Gain", unit: "dB", range: -12...12, default: 0, conditioningIndex: 1),
            .switchKnob("mode", label: "Mode", positions: ["a", "b", "c"], default: 0, conditioningIndex: 0,
                        conditioningValues: [-1, 0, 1]),
        ], conditioningSize: 3)
        var values: [Double] = [6, 2]
        var cond = [Float](repeating: 9, count: 3)
        knobs.conditioning(for: &values, into: &cond)
        XCTAssertEqual(cond, [1, 0.75, 0])
        XCTAssertNil(knobs.inconsistency(conditioningSize: 3))
        XCTAssertNotNil(knobs.inconsistency(conditioningSize: 2))
    }
}
