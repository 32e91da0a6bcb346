import Foundation
import XCTest

/// The recordings in `../shared/data` beside the repository root (or
/// `$NEURALFX_SHARED_DATA`). This suite runs only where they exist, so a
/// missing directory is a failure, not a skip.
func sharedData(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let root: URL
    if let override = ProcessInfo.processInfo.environment["NEURALFX_SHARED_DATA"], !override.isEmpty {
        root = URL(fileURLWithPath: override)
    } else {
        root = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")
    }
    let path = root.appendingPathComponent(relative).path
    guard FileManager.default.fileExists(atPath: path) else {
        XCTFail("shared data '\(path)' is missing (the real-data suite needs ../shared/data)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
    return path
}

func realDataFixture(_ relative: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative)
}
