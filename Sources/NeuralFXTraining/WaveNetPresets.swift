import NeuralFXCore

/// Neural Amp Modeler's WaveNet presets, as its trainer configures them
/// (two layer arrays, kernel 3, tanh, not gated, head scale 0.02), under
/// the names `fxtrain --arch` takes. `knobs` extra condition channels carry
/// knob values beside the audio (NAM's `condition_size`, 1 for audio alone).
public enum WaveNetPreset: String, CaseIterable, Codable, Sendable {
    case standard = "nam-standard"
    case lite = "nam-lite"
    case feather = "nam-feather"
    case nano = "nam-nano"

    /// NAM's initial (and fixed) output multiplier for every preset.
    public static let headScale: Float = 0.02

    public static var names: [String] { allCases.map(\.rawValue) }

    /// (first array's channels, second array's channels, first array's
    /// dilations, second array's dilations)
    var shape: (Int, Int, [Int], [Int]) {
        let octaves = (0..<10).map { 1 << $0 }
        let short = Array(octaves.prefix(7)), long = [128, 256, 512] + short + [128, 256, 512]
        switch self {
        case .standard: return (16, 8, octaves, octaves)
        case .lite: return (12, 6, short, long)
        case .feather: return (8, 4, short, long)
        case .nano: return (4, 2, short, long)
        }
    }

    public func config(knobs: Int = 0) -> NAMWaveNetConfig {
        let (first, second, d1, d2) = shape
        return NAMWaveNetConfig(layerArrays: [
            NAMWaveNetLayerArrayConfig(inputSize: 1, conditionSize: 1 + knobs, headSize: second, channels: first, kernelSize: 3,
                                       dilations: d1, activation: .tanh, gated: false, headBias: false),
            NAMWaveNetLayerArrayConfig(inputSize: first, conditionSize: 1 + knobs, headSize: 1, channels: second, kernelSize: 3,
                                       dilations: d2, activation: .tanh, gated: false, headBias: true),
        ], head: nil)
    }
}
