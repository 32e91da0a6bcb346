import Foundation
import XCTest
import NeuralFXCore
import NeuralFXModelFiles

/// Damaged, truncated and malicious files are refused with a reason, never a crash.
final class HostileModelFileTests: XCTestCase {
    lazy var good: Data = try! Data(contentsOf: fixtureURL("microtcn/small-gelu.safetensors"))

    func refusal(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ModelFile.loadSafetensors(data, path: "m.safetensors")
            XCTFail("accepted a bad file", file: file, line: line)
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "error spans lines: \(text)", file: file, line: line)
            return text
        }
    }

    func header(_ data: Data) -> [String: Any] {
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        return try! JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
    }

    func rebuilt(_ original: Data, _ edit: (inout [String: Any]) -> Void) -> Data {
        let n = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var h = header(original)
        edit(&h)
        let json = try! JSONSerialization.data(withJSONObject: h)
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(original.subdata(in: (8 + n)..<original.count))
        return out
    }

    func testEveryTruncationIsRefused() {
        for cut in [0, 4, 8, 20, 200, good.count / 2, good.count - 1] {
            let text = refusal(good.prefix(cut))
            XCTAssertFalse(text.isEmpty)
        }
        XCTAssertTrue(refusal(good.prefix(good.count - 1)).contains("truncated"))
    }

    func testImplausibleHeaderLengthIsRefused() {
        var d = good
        d.replaceSubrange(0..<8, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        XCTAssertTrue(refusal(d).contains("header length"))
        XCTAssertTrue(refusal(Data("not a model file at all, just text".utf8)).contains("header"))
    }

    func testGarbageHeaderIsRefused() {
        var d = good
        d[9] = UInt8(ascii: "#")
        XCTAssertTrue(refusal(d).contains("JSON"))
    }

    func testMissingWrongAndExtraTensorsAreNamed() {
        XCTAssertTrue(refusal(rebuilt(good) { $0.removeValue(forKey: "output.bias") }).contains("'output.bias' is missing"))
        let wrongShape = rebuilt(good) { h in
            var e = h["output.bias"] as! [String: Any]
            e["shape"] = [1, 1]
            h["output.bias"] = e
        }
        XCTAssertTrue(refusal(wrongShape).contains("output.bias"))
        let extra = rebuilt(good) { h in
            var e = h["output.bias"] as! [String: Any]
            h["stowaway"] = e
            e["shape"] = [1]
        }
        XCTAssertFalse(refusal(extra).isEmpty)
    }

    func testOffsetsOutsideTheFileAreRefused() {
        let d = rebuilt(good) { h in
            var e = h["output.bias"] as! [String: Any]
            e["data_offsets"] = [1 << 40, (1 << 40) + 4]
            h["output.bias"] = e
        }
        XCTAssertTrue(refusal(d).contains("output.bias"))
        let huge = rebuilt(good) { h in
            var e = h["output.bias"] as! [String: Any]
            e["shape"] = [Int(Int32.max), Int(Int32.max), Int(Int32.max)]
            h["output.bias"] = e
        }
        XCTAssertTrue(refusal(huge).contains("larger than the file"))
    }

    func testBadMetadataIsRefused() {
        XCTAssertTrue(refusal(rebuilt(good) { $0.removeValue(forKey: "__metadata__") }).contains("architecture"))
        let badConfig = rebuilt(good) { h in
            var m = h["__metadata__"] as! [String: Any]
            m["config"] = "{\"nparams\": 2, \"nblocks\": 1000000000, \"kernel_size\": 3}"
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(badConfig).contains("nblocks"))
        let badKnobs = rebuilt(good) { h in
            var m = h["__metadata__"] as! [String: Any]
            m["knobs"] = "[{\"name\": \"peak\", \"input\": 7, \"min\": 0, \"max\": 1, \"default\": 0.5}]"
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(badKnobs).contains("input 7"))
        let badRate = rebuilt(good) { h in
            var m = h["__metadata__"] as! [String: Any]
            m["sample_rate"] = "-5"
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(badRate).contains("sample_rate"))
    }

    func testNonFiniteWeightsAreRefused() throws {
        let (tensors, metadata) = try Safetensors.parse(good)
        var list = tensors.map { (name: $0.key, shape: $0.value.shape, values: $0.value.values) }.sorted { $0.name < $1.name }
        let i = list.firstIndex { $0.name == "output.bias" }!
        list[i].values[0] = .nan
        let d = try Safetensors.serialize(list, metadata: metadata)
        XCTAssertTrue(refusal(d).contains("NaN"))
    }

    func testMissingFileAndDirectoryAreRefused() {
        XCTAssertThrowsError(try ModelFile.load(path: "/nonexistent/model.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("no such file"))
        }
        XCTAssertThrowsError(try ModelFile.load(path: "/tmp")) { e in XCTAssertTrue("\(e)".contains("directory")) }
    }

    // MARK: Knob-conditioned WaveNets (`nam-wavenet`)

    /// A small WaveNet with one knob, in NeuralFX's safetensors form.
    lazy var goodWaveNet: Data = {
        let config = NAMWaveNetConfig(layerArrays: [
            NAMWaveNetLayerArrayConfig(inputSize: 1, conditionSize: 2, headSize: 2, channels: 3, kernelSize: 2, dilations: [1, 2],
                                       activation: .tanh, gated: false, headBias: false),
            NAMWaveNetLayerArrayConfig(inputSize: 3, conditionSize: 2, headSize: 1, channels: 2, kernelSize: 2, dilations: [4],
                                       activation: .tanh, gated: false, headBias: true),
        ], head: nil)
        var rng = SplitMix64(seed: 1)
        let weights = (0..<config.weightCount).map { _ in rng.nextFloat(in: -0.5...0.5) }
        let knobs = KnobSchema([.continuous("drive", label: "Drive", range: 0...1, default: 0.5, conditioningIndex: 0)])
        return try! WaveNetModelFile.serialize(config: config, weights: weights, name: "w", sampleRate: 48000, knobs: knobs)
    }()

    /// `goodWaveNet` with its config's layer arrays edited.
    func waveNetWithLayers(_ edit: @escaping (inout [[String: Any]]) -> Void) -> Data {
        rebuilt(goodWaveNet) { h in
            var m = h["__metadata__"] as! [String: Any]
            var config = try! JSONSerialization.jsonObject(with: Data((m["config"] as! String).utf8)) as! [String: Any]
            var layers = config["layers"] as! [[String: Any]]
            edit(&layers)
            config["layers"] = layers
            m["config"] = String(decoding: try! JSONSerialization.data(withJSONObject: config), as: UTF8.self)
            h["__metadata__"] = m
        }
    }

    func testAGoodWaveNetLoadsWithItsKnob() throws {
        let model = try ModelFile.loadSafetensors(goodWaveNet)
        XCTAssertEqual(model.knobs.names, ["drive"])
        XCTAssertEqual(model.blueprint.conditioningSize, 1)
        XCTAssertEqual(model.blueprint.architectureName, "nam-wavenet")
    }

    func testWaveNetTensorsMissingMisshapenExtraOrNonFiniteAreNamed() throws {
        let conv = "layer_arrays.1.layers.0.conv.weight"
        XCTAssertEqual(refusal(rebuilt(goodWaveNet) { $0.removeValue(forKey: conv) }),
                       "model file 'm.safetensors': tensor '\(conv)' is missing")
        let misshapen = rebuilt(goodWaveNet) { h in
            var e = h[conv] as! [String: Any]
            e["shape"] = [2, 4, 1]
            h[conv] = e
        }
        XCTAssertEqual(refusal(misshapen), "model file 'm.safetensors': tensor '\(conv)' has shape [2, 4, 1], expected [2, 2, 2]")
        let (tensors, metadata) = try Safetensors.parse(goodWaveNet)
        var list = tensors.map { (name: $0.key, shape: $0.value.shape, values: $0.value.values) }.sorted { $0.name < $1.name }
        let extra = try Safetensors.serialize(list + [(name: "layer_arrays.1.layers.1.conv.weight", shape: [2, 2, 2],
                                                       values: [Float](repeating: 0.1, count: 8))], metadata: metadata)
        XCTAssertEqual(refusal(extra), "model file 'm.safetensors': unexpected tensor layer_arrays.1.layers.1.conv.weight for this configuration")
        let mixer = list.firstIndex { $0.name == "layer_arrays.0.layers.1.input_mixer.weight" }!
        list[mixer].values[1] = .infinity
        XCTAssertTrue(refusal(try Safetensors.serialize(list, metadata: metadata))
            .contains("'layer_arrays.0.layers.1.input_mixer.weight' contains NaN or Inf"))
    }

    func testWaveNetConfigurationsThatCannotRunAreRefused() {
        let cases: [(String, (inout [[String: Any]]) -> Void)] = [
            // Two knob inputs (the schema drives the first, the second stays 0), but the mixers have one knob column.
            ("'layer_arrays.0.layers.0.input_mixer.weight' has shape [3, 2, 1], expected [3, 3, 1]",
             { l in for i in l.indices { l[i]["condition_size"] = 3 } }),
            ("every array takes the same condition", { l in l[1]["condition_size"] = 1 }),
            ("condition_size 100 (the audio plus 0 to 64 knobs", { l in for i in l.indices { l[i]["condition_size"] = 100 } }),
            ("a size outside 1...256", { l in l[0]["channels"] = 1 << 40 }),
            ("a dilation outside 1...65536", { l in l[0]["dilations"] = [1, 0] }),
            ("MiB", { l in l[0]["dilations"] = [Int](repeating: 65536, count: 256) }),
            ("activation 'Swish'", { l in l[0]["activation"] = "Swish" }),
            ("input_size 2 but the previous array has 3 channels", { l in l[1]["input_size"] = 2 }),
            ("not a valid WaveNet configuration", { l in l[0].removeValue(forKey: "kernel_size") }),
            ("1 to 16 are supported", { l in l.removeAll() }),
        ]
        for (reason, edit) in cases {
            let text = refusal(waveNetWithLayers(edit))
            XCTAssertTrue(text.contains(reason), "expected '\(reason)' in: \(text)")
        }
        let noRate = rebuilt(goodWaveNet) { h in
            var m = h["__metadata__"] as! [String: Any]
            m.removeValue(forKey: "sample_rate")
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(noRate).contains("sample_rate"))
        let badConfig = rebuilt(goodWaveNet) { h in
            var m = h["__metadata__"] as! [String: Any]
            m["config"] = "[1, 2"
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(badConfig).contains("not a valid WaveNet configuration"))
        let badKnobs = rebuilt(goodWaveNet) { h in
            var m = h["__metadata__"] as! [String: Any]
            m["knobs"] = "[{\"name\": \"drive\", \"input\": 1, \"min\": 0, \"max\": 1, \"default\": 0.5}]"
            h["__metadata__"] = m
        }
        XCTAssertTrue(refusal(badKnobs).contains("knob 'drive' drives conditioning input 1, outside 0..<1"))
    }
}
