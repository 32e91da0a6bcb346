/// The plugins in the bundle and the order of their ports. The binary and
/// the Turtle (written by fxlv2ttl from this same description) agree on
/// every index because both read it from here.
public struct PluginKind: Sendable, Equatable {
    public enum Effect: Sendable, Equatable {
        /// A bundled model, loaded from the bundle folder at instantiation.
        case bundled(file: String)
        /// Any model file, chosen through the model file parameter.
        case loader
    }

    public let uri: String
    public let name: String
    public let effect: Effect
    public let channels: Int

    public static let uriBase = "http://neuralfx.dev/lv2/"
    /// The loader's `patch:Parameter`: a model file (.safetensors or .nam).
    public static let modelFileURI = uriBase + "model#file"
    /// Control ports the loader maps, in order, onto the loaded model's knobs.
    public static let loaderKnobCount = 8

    public static let all: [PluginKind] = [
        PluginKind(uri: uriBase + "compressor", name: "NeuralFX Compressor", effect: .bundled(file: "la2a.safetensors"), channels: 1),
        PluginKind(uri: uriBase + "compressor-stereo", name: "NeuralFX Compressor Stereo (two engines)",
                   effect: .bundled(file: "la2a.safetensors"), channels: 2),
        PluginKind(uri: uriBase + "overdrive", name: "NeuralFX Overdrive", effect: .bundled(file: "overdrive.safetensors"), channels: 1),
        PluginKind(uri: uriBase + "overdrive-stereo", name: "NeuralFX Overdrive Stereo (two engines)",
                   effect: .bundled(file: "overdrive.safetensors"), channels: 2),
        PluginKind(uri: uriBase + "cl1b", name: "NeuralFX CL 1B (a real Tube-Tech CL 1B)", effect: .bundled(file: "cl1b.safetensors"),
                   channels: 1),
        PluginKind(uri: uriBase + "cl1b-stereo", name: "NeuralFX CL 1B Stereo (two engines)",
                   effect: .bundled(file: "cl1b.safetensors"), channels: 2),
        PluginKind(uri: uriBase + "model", name: "NeuralFX Model", effect: .loader, channels: 1),
        PluginKind(uri: uriBase + "model-stereo", name: "NeuralFX Model Stereo (two engines)", effect: .loader, channels: 2),
    ]

    public var isLoader: Bool { effect == .loader }

    /// The bundled models that are compressors (the others are distortions).
    static let compressorModels: Set<String> = ["la2a.safetensors", "cl1b.safetensors"]

    /// Port indices. Audio inputs, audio outputs, the knobs, the gains, bypass,
    /// latency; the loader adds its atom ports for the file parameter.
    public struct Ports: Sendable {
        public let channels: Int
        public let knobs: Int
        public let hasAtomPorts: Bool

        public func audioIn(_ c: Int) -> Int { c }
        public func audioOut(_ c: Int) -> Int { channels + c }
        public func knob(_ i: Int) -> Int { 2 * channels + i }
        public var inputGain: Int { 2 * channels + knobs }
        public var outputGain: Int { inputGain + 1 }
        public var enabled: Int { inputGain + 2 }
        public var latency: Int { inputGain + 3 }
        public var control: Int { inputGain + 4 }
        public var notify: Int { inputGain + 5 }
        public var count: Int { inputGain + (hasAtomPorts ? 6 : 4) }
    }

    /// The layout for a model with `knobCount` knobs (the loader's is fixed).
    public func ports(knobCount: Int) -> Ports {
        Ports(channels: channels, knobs: isLoader ? Self.loaderKnobCount : knobCount, hasAtomPorts: isLoader)
    }

    /// Input and output gain ports' range in dB.
    public static let gainRange: ClosedRange<Double> = -24...24
}
