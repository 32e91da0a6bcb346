import Foundation
import NeuralFXCore
import NeuralFXModelFiles

extension FuzzTarget {
    /// Safetensors container, then the micro-tcn model built from it, then
    /// that model run: the loader's consumers see whatever the loader lets by.
    public static let safetensors = FuzzTarget(name: "safetensors") { data in
        outcome {
            _ = try Safetensors.parse(data)
            ModelExercise.run(try ModelFile.load(data, path: "fuzz.safetensors"))
        }
    }

    /// Neural Amp Modeler captures (.nam JSON), then the network run.
    public static let nam = FuzzTarget(name: "nam") { data in
        outcome { ModelExercise.run(try NAMModelFile.load(data)) }
    }
}

/// What a host does first with a model it loaded: build an engine, set every
/// knob, process a short block.
enum ModelExercise {
    static let blockFrames = 64

    static func run(_ model: EffectModel) {
        let engine = EffectEngine(model: model, maxBlockSize: blockFrames)
        for (i, knob) in model.knobs.knobs.enumerated() { engine.setKnob(i, to: knob.maximum) }
        let input = (0..<blockFrames).map { Float(sin(Double($0) * 0.3) * 0.5) }
        var output = [Float](repeating: 0, count: blockFrames)
        engine.process(input, &output, frameCount: blockFrames)
        // The engine promises finite output whatever the weights do.
        precondition(output.allSatisfy(\.isFinite), "non-finite output from \(model.name)")
    }
}
