import Foundation
import NeuralFXModelFiles
import NeuralFXTools
import XCTest

/// Every preset shipped in presets/ names a bundled model and fits its knobs,
/// and fxrender renders with it from the source tree's search path.
final class BundledPresetTests: XCTestCase {
    func testBundledPresetsFitTheirModels() throws {
        let root = try XCTUnwrap(ModelCatalog.sourceTreeRoot())
        let catalog = ModelCatalog(roots: [(root, false)])
        let names = catalog.available(.preset)
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let path = try catalog.resolve(name, kind: .preset)
            let preset = try Preset.load(path: path)
            let model = try ModelFile.load(path: try catalog.resolve(preset.model ?? ModelCatalog.defaultModelName, kind: .model))
            var settings = EffectSettings(knobs: model.knobs)
            XCTAssertNoThrow(try settings.apply(preset, source: path), name)
            XCTAssertFalse(preset.description.isEmpty, name)
        }
    }

    func testRenderWithBundledPreset() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try writeAudio(scratch.file("in.wav"), [testSignal(channel: 0, sampleRate: 44100, frames: 22050)], sampleRate: 44100)
        let result = try runFXRender([scratch.file("in.wav"), scratch.file("out.flac"), "--preset", "la2a-limit"],
                                     home: scratch.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("FLAC pcm24"), result.stdout)
    }
}
