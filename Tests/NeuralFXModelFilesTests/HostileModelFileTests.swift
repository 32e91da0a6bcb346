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
}
