import Foundation
import XCTest

/// The bundle as Debian's LV2 tools see it.
final class PluginDiscoveryTests: XCTestCase {
    override func setUpWithError() throws { try Built.requireBundle() }

    func testLv2lsListsEveryPluginOfTheBundle() throws {
        let listed = try runTool("lv2ls", [])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout.split(separator: "\n").map(String.init).sorted(), URI.all.sorted())
    }

    func testLv2infoShowsEachPluginsPorts() throws {
        let expected: [String: [String]] = [
            URI.compressor: ["in", "out", "mode", "peak", "input_gain", "output_gain", "enabled", "latency"],
            URI.compressorStereo: ["in_l", "in_r", "out_l", "out_r", "mode", "peak", "input_gain", "output_gain", "enabled", "latency"],
            URI.overdrive: ["in", "out", "drive", "tone", "level", "input_gain", "output_gain", "enabled", "latency"],
            URI.overdriveStereo: ["in_l", "in_r", "out_l", "out_r", "drive", "tone", "level", "input_gain", "output_gain",
                                  "enabled", "latency"],
            URI.cl1b: ["in", "out", "attack", "release", "ratio", "threshold", "input_gain", "output_gain", "enabled", "latency"],
            URI.cl1bStereo: ["in_l", "in_r", "out_l", "out_r", "attack", "release", "ratio", "threshold", "input_gain",
                             "output_gain", "enabled", "latency"],
            URI.model: ["in", "out"] + (1...8).map { "knob\($0)" } + ["input_gain", "output_gain", "enabled", "latency",
                                                                     "control", "notify"],
            URI.modelStereo: ["in_l", "in_r", "out_l", "out_r"] + (1...8).map { "knob\($0)" }
                + ["input_gain", "output_gain", "enabled", "latency", "control", "notify"],
        ]
        for (uri, symbols) in expected {
            let info = try runTool("lv2info", [uri])
            XCTAssertEqual(info.status, 0, info.stderr)
            let listed = info.stdout.split(separator: "\n").compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                return t.hasPrefix("Symbol:") ? t.dropFirst("Symbol:".count).trimmingCharacters(in: .whitespaces) : nil
            }
            XCTAssertEqual(listed, symbols, uri)
            XCTAssertTrue(info.stdout.contains("Has latency:       yes"), uri)
            XCTAssertTrue(info.stdout.contains("Designation: http://lv2plug.in/ns/lv2core#enabled"), uri)
        }
        // The compressor's mode is an integer port with named positions.
        let compressor = try runTool("lv2info", [URI.compressor]).stdout
        XCTAssertTrue(compressor.contains("0 = \"compress\"") && compressor.contains("1 = \"limit\""), compressor)
        XCTAssertTrue(compressor.contains("http://lv2plug.in/ns/lv2core#integer"))
        // The loader's file parameter is what hosts show as a file chooser.
        let loader = try String(contentsOfFile: Built.bundle + "/neuralfx.ttl", encoding: .utf8)
        XCTAssertTrue(loader.contains("patch:writable <http://neuralfx.dev/lv2/model#file>"))
        XCTAssertTrue(loader.contains("rdfs:range atom:Path"))
    }

    func testTurtleValidatesAgainstTheLV2Specification() throws {
        let result = try runTool("lv2_validate", [Built.bundle + "/manifest.ttl", Built.bundle + "/neuralfx.ttl"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue((result.stdout + result.stderr).contains("Found 0 errors"), result.stdout + result.stderr)
    }

    /// What a machine without a Swift toolchain needs: nothing from the toolchain, no undefined symbols.
    func testBinaryNeedsNothingFromTheSwiftToolchain() throws {
        let ldd = try runTool("ldd", ["-r", Built.bundle + "/neuralfx.so"])
        XCTAssertEqual(ldd.status, 0, ldd.stderr)
        XCTAssertFalse(ldd.stdout.contains("not found"), ldd.stdout)
        XCTAssertFalse(ldd.stderr.contains("undefined symbol"), ldd.stderr)
        for line in ldd.stdout.split(separator: "\n") {
            XCTAssertFalse(line.contains("swift") || line.contains("/opt/"), String(line))
        }
    }
}
