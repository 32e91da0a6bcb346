import NeuralFXDevices
import NeuralFXModelFiles
import XCTest

/// Datasets rendered from the compressor train the model the project ships;
/// both must describe the knobs the same way.
final class BundledModelKnobTests: XCTestCase {
    func testCompressorKnobsAreTheBundledModelsKnobs() throws {
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = try ModelFile.load(path: repository.appendingPathComponent("models/la2a.safetensors").path)
        XCTAssertEqual(model.knobs, OpticalCompressor.knobSchema)
        XCTAssertEqual(model.sampleRate, OpticalCompressor().sampleRate)
    }
}
