import Foundation
import XCTest

/// The README's set-up branch that installs missing Debian packages, run for
/// real through make with stand-ins for the system tools placed first on
/// PATH. Development machines have every package, so without this test the
/// branch never runs anywhere but on a user's fresh machine.
final class MakeSetupTests: XCTestCase {
    static let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    var tools: URL!
    var log: URL { tools.appendingPathComponent("calls.log") }

    override func setUpWithError() throws {
        tools = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-setup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        // Each stand-in records how it was called (and the environment apt-get
        // saw), then acts like the real tool would on a fresh machine.
        try stub("id", #"[ "$1" = -u ] && echo "$STUB_UID" || echo "uid=$STUB_UID""#)
        try stub("dpkg-query", #"for a; do package=$a; done; echo "dpkg-query $package" >> "$STUB_LOG"; [ -n "$STUB_INSTALLED" ] && echo "install ok installed"; [ -n "$STUB_INSTALLED" ]"#)
        try stub("apt-get", #"echo "apt-get $* [DEBIAN_FRONTEND=$DEBIAN_FRONTEND uid=$(id -u)]" >> "$STUB_LOG""#)
        try stub("sudo", #"echo "sudo $*" >> "$STUB_LOG"; STUB_UID=0 exec "$@""#)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tools)
    }

    func stub(_ name: String, _ body: String) throws {
        let url = tools.appendingPathComponent(name)
        try ("#!/bin/sh\n" + body + "\n").write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// Runs `make <target>` in `directory` as the user `uid`, with the stand-ins first on PATH.
    func make(_ arguments: [String], uid: Int, installed: Bool = false,
              in directory: URL = projectRoot) throws -> (status: Int32, output: String, calls: [String]) {
        try? FileManager.default.removeItem(at: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["make", "--no-print-directory", "-C", directory.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = tools.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["STUB_LOG"] = log.path
        environment["STUB_UID"] = "\(uid)"
        environment["STUB_INSTALLED"] = installed ? "1" : ""
        environment["DEBIAN_FRONTEND"] = nil
        environment["MAKEFLAGS"] = nil
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let calls = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        return (process.terminationStatus, output, calls)
    }

    /// The packages set-up asked dpkg-query about.
    func queried(_ calls: [String]) -> [String] {
        calls.filter { $0.hasPrefix("dpkg-query") }.compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    func testAsRootEveryMissingPackageIsInstalledWithoutSudo() throws {
        let run = try make(["setup", "SWIFT=true"], uid: 0)
        XCTAssertEqual(run.status, 0, run.output)
        let packages = queried(run.calls)
        XCTAssertTrue(packages.contains("libsndfile1-dev"), "\(run.calls)")
        let apt = run.calls.filter { $0.hasPrefix("apt-get") }
        XCTAssertEqual(apt.count, 2, "\(run.calls)")
        XCTAssertTrue(apt[0].hasPrefix("apt-get update"), apt[0])
        XCTAssertEqual(apt[1], "apt-get install -y -qq --no-install-recommends \(packages.joined(separator: " ")) "
                       + "[DEBIAN_FRONTEND=noninteractive uid=0]")
        XCTAssertFalse(run.calls.contains { $0.hasPrefix("sudo") }, "\(run.calls)")
    }

    func testAsAUserEveryMissingPackageIsInstalledThroughSudo() throws {
        let run = try make(["setup", "SWIFT=true"], uid: 1000)
        XCTAssertEqual(run.status, 0, run.output)
        let packages = queried(run.calls).joined(separator: " ")
        XCTAssertTrue(run.calls.contains("sudo apt-get update -qq"), "\(run.calls)")
        XCTAssertTrue(run.calls.contains("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \(packages)"),
                      "\(run.calls)")
        // apt-get itself ran as root, non-interactively.
        XCTAssertTrue(run.calls.contains("apt-get install -y -qq --no-install-recommends \(packages) [DEBIAN_FRONTEND=noninteractive uid=0]"),
                      "\(run.calls)")
    }

    func testNothingIsInstalledWhenEveryPackageIsThere() throws {
        let run = try make(["setup", "SWIFT=true"], uid: 1000, installed: true)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertFalse(queried(run.calls).isEmpty)
        XCTAssertFalse(run.calls.contains { $0.hasPrefix("apt-get") || $0.hasPrefix("sudo") }, "\(run.calls)")
    }

    func testAMissingToolchainIsOneClearLine() throws {
        let run = try make(["setup", "SWIFT=no-such-swift"], uid: 0, installed: true)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("error: Swift 6 toolchain not found on PATH"), run.output)
    }

    /// `make test-real` without ../shared/data says so before building.
    func testTheRealDataSuiteSaysTheDataIsMissingBeforeBuilding() throws {
        let project = tools.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.projectRoot.appendingPathComponent("Makefile"),
                                         to: project.appendingPathComponent("Makefile"))
        let run = try make(["test-real", "SWIFT=echo would-run-swift"], uid: 0, installed: true, in: project)
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.output.contains("../shared/data not found"), run.output)
        XCTAssertFalse(run.output.contains("would-run-swift"), run.output)
        XCTAssertTrue(run.calls.isEmpty, "set-up ran before the check: \(run.calls)")
    }
}
