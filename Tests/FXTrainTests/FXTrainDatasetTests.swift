import Foundation
import NeuralFXDatasets
import XCTest

/// `fxtrain dataset` end to end: the built executable, real files.
final class FXTrainDatasetTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fxtrain-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    /// Runs the `fxtrain` built beside this test bundle in the scratch folder.
    private func fxtrain(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        while directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        let process = Process()
        process.executableURL = directory.appendingPathComponent("fxtrain")
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testRendersADatasetAndRefusesToOverwriteIt() throws {
        let run = try fxtrain(["dataset", "--device", "la2a", "--minutes", "0.1", "--out", "data/la2a",
                               "--layout", "signaltrain", "--seed", "4"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("real time"), run.stdout)
        let folder = scratch.appendingPathComponent("data/la2a")
        let manifest = try DatasetManifest.load(from: folder.appendingPathComponent(DatasetManifest.fileName).path)
        XCTAssertEqual(manifest.layout, "signaltrain")
        for pair in manifest.pairs {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(pair.target).path))
        }
        let before = try Data(contentsOf: folder.appendingPathComponent(DatasetManifest.fileName))

        let again = try fxtrain(["dataset", "--device", "la2a", "--minutes", "0.1", "--out", "data/la2a", "--seed", "5"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertEqual(again.stderr.split(separator: "\n").count, 1, again.stderr)
        XCTAssertTrue(again.stderr.contains("not empty"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent(DatasetManifest.fileName)), before)
    }

    func testBadArgumentsFailWithOneLine() throws {
        for arguments in [["dataset", "--device", "la2a", "--minutes", "-2", "--out", "x"],
                          ["dataset", "--device", "overdrive", "--minutes", "1", "--out", "y", "--layout", "signaltrain"],
                          ["dataset", "--device", "la2a", "--minutes", "1", "--out", "z", "--examples", "missing"]] {
            let run = try fxtrain(arguments)
            XCTAssertNotEqual(run.status, 0, arguments.joined(separator: " "))
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.hasPrefix("fxtrain: error: "), run.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("x").path))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("y").path))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("z").path))
        }
        let unknown = try fxtrain(["dataset", "--device", "fuzz", "--minutes", "1", "--out", "w"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("fuzz"), unknown.stderr)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
    }
}
