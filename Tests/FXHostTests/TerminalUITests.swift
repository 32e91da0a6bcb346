import Foundation
import XCTest

/// The interactive UI as a person uses it: fxhost in a real terminal (tmux),
/// keys typed, the screen read back.
final class TerminalUITests: XCTestCase {
    @discardableResult
    func tmux(_ arguments: [String], check: Bool = true) throws -> String {
        let p = try ChildProcess("/usr/bin/tmux", arguments)
        let status = p.wait(10)
        if check { XCTAssertEqual(status, 0, p.standardError) }
        return p.standardOutput
    }

    func testKeysSelectNudgeTypeAndQuit() throws {
        let server = try DummyJackServer()
        defer { server.stop() }
        let session = "nfxui\(getpid())"
        let done = FileManager.default.temporaryDirectory.appendingPathComponent("\(session).status")
        try? FileManager.default.removeItem(at: done)
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "220", "-y", "20",
                      "\(fxhostPath) --model \(TestModels.a) --server \(server.name) --name ui; echo exit=$? > \(done.path)"])
        // Normally gone by then (fxhost quit); this covers failures.
        defer { _ = try? tmux(["kill-session", "-t", session], check: false) }
        func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }
        func keys(_ k: String...) throws { _ = try tmux(["send-keys", "-t", session] + k) }

        XCTAssertTrue(eventually(15) { (try? screen())?.contains("> peak=0.5") == true }, (try? screen()) ?? "")
        try keys("+")                       // peak up by a tenth of its range
        XCTAssertTrue(eventually(5) { (try? screen())?.contains("> peak=0.6") == true }, (try? screen()) ?? "")
        try keys("j", "l")                  // next knob (mode), one position up
        XCTAssertTrue(eventually(5) { (try? screen())?.contains("> mode=limit") == true }, (try? screen()) ?? "")
        try keys("k", "=", "0.25", "Enter") // back to peak, type a value
        XCTAssertTrue(eventually(5) { (try? screen())?.contains("peak=0.25") == true }, (try? screen()) ?? "")
        try keys("b")
        XCTAssertTrue(eventually(5) { (try? screen())?.contains("[bypass]") == true }, (try? screen()) ?? "")
        try keys("q")
        XCTAssertTrue(eventually(10) { (try? String(contentsOf: done, encoding: .utf8)) == "exit=0\n" })
    }
}
