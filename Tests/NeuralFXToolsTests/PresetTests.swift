import Foundation
import NeuralFXTools
import XCTest

final class PresetTests: XCTestCase {
    func parse(_ json: String) throws -> Preset { try Preset(json: Data(json.utf8), source: "p.json") }

    func message(_ json: String) -> String {
        do { _ = try parse(json); return "no error" } catch { return "\(error)" }
    }

    func testParsesAndRoundTrips() throws {
        let p = try parse(#"{"model": "la2a", "description": "gentle", "knobs": {"peak": 0.4, "mode": "limit"}, "input_gain_db": -3, "output_gain_db": 1.5}"#)
        XCTAssertEqual(p.model, "la2a")
        XCTAssertEqual(p.description, "gentle")
        XCTAssertEqual(p.knobs.map(\.name), ["mode", "peak"])
        XCTAssertEqual(p.knobs.map(\.value), [.position("limit"), .number(0.4)])
        XCTAssertEqual(p.inputGainDB, -3)
        XCTAssertEqual(p.outputGainDB, 1.5)
        XCTAssertEqual(try Preset(json: p.json(), source: "again"), p)
        let minimal = try parse(#"{"knobs": {}}"#)
        XCTAssertNil(minimal.model)
        XCTAssertEqual(minimal.inputGainDB, 0)
    }

    func testMalformedPresets() {
        XCTAssertEqual(message("{\"knobs\": "), "preset 'p.json': is not valid JSON")
        XCTAssertEqual(message("[1, 2]"), "preset 'p.json': must be a JSON object")
        XCTAssertEqual(message(#"{"model": "x"}"#), "preset 'p.json': has no 'knobs'")
        XCTAssertEqual(message(#"{"knobs": {}, "gain": 3}"#),
                       "preset 'p.json': unknown key 'gain' (expected model, description, knobs, input_gain_db, output_gain_db)")
        XCTAssertEqual(message(#"{"knobs": {"peak": true}}"#),
                       "preset 'p.json': knob 'peak' must be a number or a switch position name")
        XCTAssertEqual(message(#"{"knobs": [0.4]}"#), "preset 'p.json': 'knobs' must be an object of name: value")
        XCTAssertEqual(message(#"{"knobs": {}, "output_gain_db": 100}"#),
                       "preset 'p.json': 'output_gain_db' must be a number of dB within ±60")
        XCTAssertEqual(message(#"{"knobs": {}, "model": 3}"#), "preset 'p.json': 'model' must be a non-empty string")
    }

    func testValidatesAgainstTheModelsKnobs() throws {
        let schema = testModel().knobs
        func settingsMessage(_ json: String) -> String {
            do { _ = try parse(json).settings(for: schema, source: "p.json"); return "no error" } catch { return "\(error)" }
        }
        let good = try parse(#"{"knobs": {"peak": 1, "mode": "LIMIT"}}"#).settings(for: schema, source: "p.json")
        XCTAssertEqual(good.map(\.index), [1, 0])
        XCTAssertEqual(good.map(\.value), [1, 1])
        XCTAssertEqual(settingsMessage(#"{"knobs": {"threshold": 1}}"#),
                       "preset 'p.json': unknown knob 'threshold'; valid knobs: peak, mode")
        XCTAssertEqual(settingsMessage(#"{"knobs": {"peak": 1.5}}"#),
                       "preset 'p.json': knob 'peak': value 1.5 is outside its range 0..1")
        XCTAssertEqual(settingsMessage(#"{"knobs": {"mode": "squash"}}"#),
                       "preset 'p.json': knob 'mode': 'squash' is not one of compress, limit")
        XCTAssertEqual(settingsMessage(#"{"knobs": {"peak": "loud"}}"#),
                       "preset 'p.json': knob 'peak': 'loud' is not a number")
    }

    func testSettingsLayerDefaultsPresetAndArguments() throws {
        let model = testModel()
        var settings = EffectSettings(knobs: model.knobs)
        XCTAssertEqual(settings.values, [0.5, 0])
        try settings.apply(try parse(#"{"knobs": {"peak": 0.9, "mode": "limit"}, "output_gain_db": -2}"#), source: "p.json")
        XCTAssertEqual(settings.values, [0.9, 1])
        try settings.apply(arguments: ["peak=0.25"])
        XCTAssertEqual(settings.values, [0.25, 1])
        XCTAssertEqual(settings.outputGainDB, -2)
        XCTAssertEqual(settings.summary, "peak=0.25 mode=limit output -2.0 dB")
        XCTAssertThrowsError(try settings.apply(arguments: ["ratio=4"])) { error in
            XCTAssertEqual("\(error)", "unknown knob 'ratio'; valid knobs: peak, mode")
        }
        XCTAssertThrowsError(try settings.apply(arguments: ["peak=-1"])) { error in
            XCTAssertEqual("\(error)", "knob 'peak': value -1 is outside its range 0..1")
        }
    }
}
