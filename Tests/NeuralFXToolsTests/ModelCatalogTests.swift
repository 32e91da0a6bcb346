import Foundation
import NeuralFXTools
import XCTest

final class ModelCatalogTests: XCTestCase {
    var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }
    override func tearDown() { scratch.remove() }

    /// One catalog over every kind of root: two NEURALFX_PATH entries (one
    /// with models/, one flat), an XDG data dir, an install prefix, a source tree.
    func catalog(environment extra: [String: String] = [:]) -> ModelCatalog {
        var environment = ["NEURALFX_PATH": scratch.file("env1") + "::" + scratch.file("env2"),
                           "XDG_DATA_HOME": scratch.file("xdg"), "HOME": scratch.file("home")]
        environment.merge(extra) { $1 }
        return ModelCatalog.standard(environment: environment, executablePath: scratch.file("prefix/bin/fxrender"),
                                     sourceTreeRoot: scratch.file("src"))
    }

    func testSearchOrder() throws {
        let c = catalog()
        XCTAssertEqual(c.directories(for: .model), [
            scratch.file("env1/models"), scratch.file("env1"), scratch.file("env2/models"), scratch.file("env2"),
            scratch.file("xdg/neuralfx/models"), scratch.file("prefix/share/neuralfx/models"), scratch.file("src/models"),
        ])
        XCTAssertEqual(c.directories(for: .preset).last, scratch.file("src/presets"))

        scratch.make("src/models/a.safetensors")
        XCTAssertEqual(try c.resolve("a", kind: .model), scratch.file("src/models/a.safetensors"))
        scratch.make("prefix/share/neuralfx/models/a.safetensors")
        XCTAssertEqual(try c.resolve("a", kind: .model), scratch.file("prefix/share/neuralfx/models/a.safetensors"))
        scratch.make("xdg/neuralfx/models/a.safetensors")
        XCTAssertEqual(try c.resolve("a", kind: .model), scratch.file("xdg/neuralfx/models/a.safetensors"))
        scratch.make("env2/a.safetensors")
        XCTAssertEqual(try c.resolve("a", kind: .model), scratch.file("env2/a.safetensors"))
        scratch.make("env1/models/a.safetensors")
        XCTAssertEqual(try c.resolve("a", kind: .model), scratch.file("env1/models/a.safetensors"))
    }

    func testNamesExtensionsAndPaths() throws {
        let c = catalog()
        scratch.make("src/models/amp.nam")
        scratch.make("src/models/comp.safetensors")
        scratch.make("src/models/comp.nam")
        scratch.make("src/presets/warm.json")
        XCTAssertEqual(try c.resolve("amp", kind: .model), scratch.file("src/models/amp.nam"))
        XCTAssertEqual(try c.resolve("comp", kind: .model), scratch.file("src/models/comp.safetensors"))
        XCTAssertEqual(try c.resolve("comp.nam", kind: .model), scratch.file("src/models/comp.nam"))
        XCTAssertEqual(try c.resolve("warm", kind: .preset), scratch.file("src/presets/warm.json"))
        XCTAssertEqual(c.available(.model), ["amp", "comp"])
        // An existing path is taken as it is, whatever its name.
        let own = scratch.make("elsewhere/my model.bin")
        XCTAssertEqual(try c.resolve(own, kind: .model), own)
    }

    func testDataDirectoryDefaultsToHome() {
        let c = catalog(environment: ["XDG_DATA_HOME": ""])
        XCTAssertTrue(c.directories(for: .model).contains(scratch.file("home/.local/share/neuralfx/models")))
    }

    func testErrors() throws {
        let c = catalog()
        scratch.make("src/models/la2a.safetensors")
        scratch.make("xdg/neuralfx/models/fuzz.nam")
        XCTAssertThrowsError(try c.resolve("nope", kind: .model)) { error in
            XCTAssertEqual("\(error)", "no model named 'nope' (looked in \(scratch.file("xdg/neuralfx/models")), "
                + "\(scratch.file("src/models")); available: fuzz, la2a; set NEURALFX_PATH to add directories)")
        }
        XCTAssertThrowsError(try c.resolve("nope", kind: .preset)) { error in
            XCTAssertEqual("\(error)", "no preset named 'nope' (no presets directory exists on the search path; "
                + "none available; set NEURALFX_PATH to add directories)")
        }
        XCTAssertThrowsError(try c.resolve("./missing.safetensors", kind: .model)) { error in
            XCTAssertEqual("\(error)", "model file './missing.safetensors' does not exist")
        }
        XCTAssertThrowsError(try c.resolve(scratch.path, kind: .model)) { error in
            XCTAssertEqual("\(error)", "model '\(scratch.path)' is a directory, not a model file")
        }
    }

    /// Built from this package, the catalog finds the source tree.
    func testSourceTreeRootIsThisPackage() throws {
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/Sources/NeuralFXTools/ModelCatalog.swift"))
    }
}
