import Foundation
import NeuralFXFuzzing
import XCTest

/// Replays every committed fuzz input through the function its fuzzer calls:
/// the seed corpora (`Tests/FuzzCorpus/<target>`) and the regression corpora
/// (`Tests/FuzzRegressions/<target>`, inputs that once crashed, hung or blew
/// up memory). A file named `ok-*` must be accepted and one named `bad-*`
/// refused; any other (a reproducer as `make fuzz` saved it) must just be one
/// or the other. A crash here crashes the test run, which is the failure.
final class FuzzReplayTests: XCTestCase {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    func files(_ corpus: String, _ target: FuzzTarget) throws -> [String] {
        let folder = Self.testsFolder.appendingPathComponent(corpus).appendingPathComponent(target.name).path
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try FuzzMain.inputs(at: folder)
    }

    func replay(_ corpus: String) throws -> Int {
        var count = 0
        for target in FuzzTarget.all {
            for file in try files(corpus, target) {
                let name = (file as NSString).lastPathComponent
                let outcome = target.run(try Data(contentsOf: URL(fileURLWithPath: file)))
                if name.hasPrefix("ok-") { XCTAssertEqual(outcome, .accepted, "\(target.name): \(name)") }
                if name.hasPrefix("bad-") { XCTAssertEqual(outcome, .refused, "\(target.name): \(name)") }
                count += 1
            }
        }
        return count
    }

    func testSeedCorpora() throws {
        for target in FuzzTarget.all {
            let names = try files("FuzzCorpus", target).map { ($0 as NSString).lastPathComponent }
            XCTAssertTrue(names.contains { $0.hasPrefix("ok-") }, "\(target.name) has no ok-* seed")
            XCTAssertTrue(names.contains { $0.hasPrefix("bad-") }, "\(target.name) has no bad-* seed")
        }
        XCTAssertGreaterThan(try replay("FuzzCorpus"), 0)
    }

    func testRegressionCorpora() throws {
        _ = try replay("FuzzRegressions")
    }

    func testEveryFuzzExecutableHasATarget() throws {
        let sources = Self.testsFolder.deletingLastPathComponent().appendingPathComponent("Sources")
        let executables = try FileManager.default.contentsOfDirectory(atPath: sources.path)
            .filter { $0.hasPrefix("fuzz-") }.map { String($0.dropFirst(5)) }.sorted()
        XCTAssertEqual(executables, FuzzTarget.all.map(\.name).sorted())
    }
}
