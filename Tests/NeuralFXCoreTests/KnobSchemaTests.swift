import Foundation
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

    /// A level knob feeds no conditioning input; it sets an output gain
    /// linear in dB, survives a JSON round trip, and bad gain ranges are refused.
    func testOutputGainKnob() throws {
        let knobs = KnobSchema([
            .continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0),
            .continuous("level", label: "Level", range: 0...10, default: 5, conditioningIndex: nil, outputGainDecibels: -40...0),
        ])
        XCTAssertEqual(knobs.conditioningSize, 1)
        XCTAssertTrue(knobs.setsOutputGain)
        XCTAssertFalse(compressorKnobs().setsOutputGain)
        var values: [Double] = [0.25, 5]
        XCTAssertEqual(knobs.outputGain(for: &values), 0.1, accuracy: 1e-12)
        values[1] = 10
        XCTAssertEqual(knobs.outputGain(for: &values), 1, accuracy: 1e-12)
        var cond: [Float] = [9]
        knobs.conditioning(for: &values, into: &cond)
        XCTAssertEqual(cond, [0.25])
        XCTAssertNil(knobs.inconsistency(conditioningSize: 1))

        let json = try JSONEncoder().encode(knobs)
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertTrue(text.contains("output_gain_db"), text)
        XCTAssertEqual(try JSONDecoder().decode(KnobSchema.self, from: json), knobs)

        let decode = { (spec: String) in try JSONDecoder().decode(KnobSpec.self, from: Data(spec.utf8)) }
        XCTAssertThrowsError(try decode(#"{"name":"x","min":0,"max":1,"default":0}"#), "no input and no output gain")
        let huge = try decode(#"{"name":"x","min":0,"max":1,"default":0,"output_gain_db":[-1000,0]}"#)
        XCTAssertEqual(KnobSchema([huge]).inconsistency(conditioningSize: 0), "knob 'x' needs an output_gain_db of two numbers within ±120 dB")
        let three = try decode(#"{"name":"x","min":0,"max":1,"default":0,"output_gain_db":[-6,0,6]}"#)
        XCTAssertNotNil(KnobSchema([three]).inconsistency(conditioningSize: 0))
        let switchWithGain = try decode(#"{"name":"s","positions":["a","b"],"input":0,"output_gain_db":[-6,0]}"#)
        XCTAssertEqual(KnobSchema([switchWithGain]).inconsistency(conditioningSize: 1), "switch 's' cannot set an output gain")
    }

    /// A switch's default names one of its positions; any other number would
    /// index past them when the knob is written back out (found by fuzzing).
    func testSwitchDefaultOutsideItsPositionsIsRefused() throws {
        let decode = { (spec: String) in try JSONDecoder().decode(KnobSpec.self, from: Data(spec.utf8)) }
        for bad in ["2", "-1", "0.5", "1e300"] {
            let spec = try decode(#"{"name":"s","positions":["a","b"],"input":0,"default":\#(bad)}"#)
            XCTAssertEqual(KnobSchema([spec]).inconsistency(conditioningSize: 1), "switch 's' has its default outside its positions", bad)
        }
        XCTAssertNil(KnobSchema([try decode(#"{"name":"s","positions":["a","b"],"input":0,"default":"b"}"#)])
            .inconsistency(conditioningSize: 1))
    }

    /// A switch describes any value as its nearest position, even one no Int holds.
    func testSwitchDescribesValuesFarOutside() {
        let mode = KnobSpec.switchKnob("mode", label: "Mode", positions: ["a", "b"], default: 0, conditioningIndex: 0)
        XCTAssertEqual(mode.describe(3e89), "b")
        XCTAssertEqual(mode.describe(-3e89), "a")
        XCTAssertEqual(mode.describe(.nan), "a")
        XCTAssertEqual(mode.describe(0.6), "b")
    }
}
