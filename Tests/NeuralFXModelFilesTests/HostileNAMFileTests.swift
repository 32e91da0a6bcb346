import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles

/// Damaged, unsupported and inconsistent .nam files are refused with a
/// one-line reason, never a crash.
final class HostileNAMFileTests: XCTestCase {
    func json(_ name: String) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("nam/\(name).nam"))) as! [String: Any]
    }

    func refusal(_ data: Data, path: String = "m.nam", file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try NAMModelFile.load(data, path: path)
            XCTFail("accepted a bad file", file: file, line: line)
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "error spans lines: \(text)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix("model file 'm.nam': "), text, file: file, line: line)
            return text
        }
    }

    func refusal(_ base: String, file: StaticString = #filePath, line: UInt = #line,
                 _ edit: (inout [String: Any]) -> Void) -> String {
        var object = json(base)
        edit(&object)
        return refusal(try! JSONSerialization.data(withJSONObject: object), file: file, line: line)
    }

    func layers(_ o: inout [String: Any], _ edit: (inout [[String: Any]]) -> Void) {
        var config = o["config"] as! [String: Any]
        var arrays = config["layers"] as! [[String: Any]]
        edit(&arrays)
        config["layers"] = arrays
        o["config"] = config
    }

    func testEveryTruncationIsRefused() throws {
        let data = try Data(contentsOf: fixtureURL("nam/linear.nam"))
        for n in 0..<data.count {
            XCTAssertTrue(refusal(data.prefix(n)).contains("not valid JSON"), "prefix \(n)")
        }
        let big = try Data(contentsOf: fixtureURL("nam/wavenet-gated.nam"))
        for n in stride(from: 0, to: big.count, by: 997) { _ = refusal(big.prefix(n)) }
    }

    func testUnsupportedVersionsAndArchitecturesAreNamed() {
        XCTAssertTrue(refusal("linear") { $0["version"] = "0.6.0" }.contains(".nam version 0.6.0 is not supported (supported: 0.5.x)"))
        XCTAssertTrue(refusal("linear") { $0["version"] = "0.5" }.contains("not supported"))
        XCTAssertTrue(refusal("linear") { $0.removeValue(forKey: "version") }.contains("no 'version'"))
        XCTAssertTrue(refusal("linear") { $0["architecture"] = "ConvNet" }
            .contains("architecture 'ConvNet' is not supported (supported: WaveNet, LSTM, Linear)"))
        XCTAssertTrue(refusal(Data("[1, 2]".utf8)).contains("not a .nam object"))
        XCTAssertTrue(refusal(Data("{\"version\": \"0.5.4\"".utf8)).contains("not valid JSON"))
    }

    func testWeightCountsMustMatchTheConfiguration() {
        XCTAssertTrue(refusal("wavenet-nano") { o in o["weights"] = Array((o["weights"] as! [Any]).dropLast()) }
            .contains("has 841 weights but its WaveNet configuration needs 842"))
        XCTAssertTrue(refusal("lstm") { o in o["weights"] = (o["weights"] as! [Any]) + [0.5] }
            .contains("has 906 weights but its LSTM configuration needs 905"))
        XCTAssertTrue(refusal("linear") { o in o["config"] = ["receptive_field": 40, "bias": true] }
            .contains("has 33 weights but its Linear configuration needs 41"))
        XCTAssertTrue(refusal("linear") { o in
            var w = o["weights"] as! [Any]; w[3] = "x"; o["weights"] = w
        }.contains("weight 3 is not a number"))
        XCTAssertTrue(refusal("linear") { o in
            var w = o["weights"] as! [Any]; w[0] = 1e300; o["weights"] = w
        }.contains("weight 0 is not finite in float32"))
    }

    func testInconsistentOrOversizedConfigurationsAreRefused() {
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[1]["channels"] = 3 } }
            .contains("layer array 1 has 3 channels but the previous array's head_size is 2"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[0]["input_size"] = 2 } }
            .contains("the first must be 1"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[0]["activation"] = "Fasttanh" } }
            .contains("activation 'Fasttanh' is not supported (supported: Tanh,"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[0]["channels"] = 100_000 } }
            .contains("'channels' is 100000, outside 1...256"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[0]["dilations"] = [1, 0] } }
            .contains("dilation is not an integer"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[0].removeValue(forKey: "gated") } }
            .contains("layer array 0: 'gated' is missing"))
        XCTAssertTrue(refusal("wavenet-nano") { o in layers(&o) { $0[1]["head_size"] = 2 } }
            .contains("head_size 2 and there is no head"))
        XCTAssertTrue(refusal("wavenet-nano") { o in o["sample_rate"] = 1000 }.contains("'sample_rate'"))
        XCTAssertTrue(refusal("wavenet-nano") { o in
            layers(&o) { $0[1]["kernel_size"] = 64; $0[1]["dilations"] = [Int](repeating: 65536, count: 40) }
        }.contains("MiB (more than any model this runs"))
        XCTAssertTrue(refusal("lstm") { o in o["config"] = ["input_size": 1, "hidden_size": 4096, "num_layers": 2] }
            .contains("'hidden_size' is 4096, outside 1...128"))
        XCTAssertTrue(refusal("lstm") { o in o["config"] = ["input_size": 2, "hidden_size": 8, "num_layers": 2] }
            .contains("only mono audio"))
        XCTAssertTrue(refusal("lstm") { o in o["config"] = ["input_size": 1, "hidden_size": -3, "num_layers": 2] }
            .contains("'hidden_size' is -3"))
    }

    func testMissingSampleRateMeans48kHz() throws {
        var o = json("wavenet-nano")
        o.removeValue(forKey: "sample_rate")
        o.removeValue(forKey: "metadata")
        let model = try NAMModelFile.load(try JSONSerialization.data(withJSONObject: o), path: "dir/nano.nam")
        XCTAssertEqual(model.sampleRate, 48000)
        XCTAssertEqual(model.name, "nano")
        XCTAssertTrue(model.info.contains { $0.key == "sample rate in file" && $0.value.contains("48000 Hz") })
        XCTAssertNil(NAMModelFile.loudness(of: model))
        XCTAssertEqual(NAMOutputLevel.normalized.gainDecibels(for: model), 0)
    }

    /// `ModelFile.load` tells .nam from safetensors by extension and content.
    func testModelFileLoadDispatchesOnContent() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-nam-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let noExtension = dir.appendingPathComponent("capture").path
        try Data(contentsOf: fixtureURL("nam/linear.nam")).write(to: URL(fileURLWithPath: noExtension))
        XCTAssertEqual(try ModelFile.load(path: noExtension).blueprint.architectureName, "nam-linear")
        let safetensors = dir.appendingPathComponent("micro").path
        try Data(contentsOf: fixtureURL("microtcn/small-gelu.safetensors")).write(to: URL(fileURLWithPath: safetensors))
        XCTAssertEqual(try ModelFile.load(path: safetensors).blueprint.architectureName, "micro-tcn")
        let damaged = dir.appendingPathComponent("damaged.nam").path
        try Data("{\"version\":".utf8).write(to: URL(fileURLWithPath: damaged))
        XCTAssertThrowsError(try ModelFile.load(path: damaged)) { XCTAssertTrue("\($0)".contains("not valid JSON")) }
    }
}
