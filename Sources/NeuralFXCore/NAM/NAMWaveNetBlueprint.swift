/// One layer array of Neural Amp Modeler's WaveNet, as a 0.5.x .nam file
/// describes it.
///
/// The array maps its input (the audio for the first array, the previous
/// array's residual stream after that) to `channels` with a bias-free 1x1
/// "rechannel". Each layer then computes
/// `z = act(conv_d(x) + mixer * condition)` (a dilated convolution with bias
/// plus a bias-free 1x1 of the condition: the raw audio input, followed by
/// `conditionSize - 1` knob values in NeuralFX's WaveNet model files), or with
/// `gated` `act(first half) * sigmoid(second half)` of twice as many channels;
/// adds `z` to the array's head accumulator, and passes `x + W1 z + b1` on.
/// The accumulator starts at zero in the first array and at the previous
/// array's head output after that; a 1x1 "head rechannel" (bias if
/// `headBias`) maps it to `headSize` channels.
public struct NAMWaveNetLayerArrayConfig: Equatable, Sendable {
    public var inputSize: Int
    public var conditionSize: Int
    public var headSize: Int
    public var channels: Int
    public var kernelSize: Int
    public var dilations: [Int]
    public var activation: NAMActivation
    public var gated: Bool
    public var headBias: Bool

    public init(inputSize: Int, conditionSize: Int, headSize: Int, channels: Int, kernelSize: Int,
                dilations: [Int], activation: NAMActivation, gated: Bool, headBias: Bool) {
        self.inputSize = inputSize
        self.conditionSize = conditionSize
        self.headSize = headSize
        self.channels = channels
        self.kernelSize = kernelSize
        self.dilations = dilations
        self.activation = activation
        self.gated = gated
        self.headBias = headBias
    }

    /// Channels the dilated convolution produces.
    public var convChannels: Int { gated ? 2 * channels : channels }

    /// Weights in the flat array, in NAM's order: rechannel; per layer conv
    /// weight `[out, in, k]` and bias, mixer `[out, condition]`, 1x1 weight and
    /// bias; head rechannel weight `[head, channels]` and its bias if any.
    public var weightCount: Int {
        let perLayer = convChannels * channels * kernelSize + convChannels + convChannels * conditionSize
            + channels * channels + channels
        return inputSize * channels + dilations.count * perLayer + headSize * channels + (headBias ? headSize : 0)
    }

    public var receptiveField: Int { 1 + dilations.reduce(0) { $0 + (kernelSize - 1) * $1 } }
}

/// The optional post-head of a 0.5.x WaveNet: `layers` blocks of
/// activation then 1x1 convolution with bias, `channels` wide, the last one
/// `outChannels` wide.
public struct NAMWaveNetHeadConfig: Equatable, Sendable {
    public var channels: Int
    public var activation: NAMActivation
    public var layers: Int
    public var outChannels: Int

    public init(channels: Int, activation: NAMActivation, layers: Int, outChannels: Int) {
        self.channels = channels
        self.activation = activation
        self.layers = layers
        self.outChannels = outChannels
    }

    func widths(inChannels: Int) -> [(cin: Int, cout: Int)] {
        (0..<layers).map { i in (i == 0 ? inChannels : channels, i == layers - 1 ? outChannels : channels) }
    }
}

public struct NAMWaveNetConfig: Equatable, Sendable {
    public var layerArrays: [NAMWaveNetLayerArrayConfig]
    public var head: NAMWaveNetHeadConfig?

    public init(layerArrays: [NAMWaveNetLayerArrayConfig], head: NAMWaveNetHeadConfig?) {
        self.layerArrays = layerArrays
        self.head = head
    }

    /// Weights in a file: the arrays, the head's (weight, bias) pairs, then
    /// `head_scale` as the very last value.
    public var weightCount: Int {
        let arrays = layerArrays.reduce(0) { $0 + $1.weightCount }
        let head = (head?.widths(inChannels: layerArrays.last?.headSize ?? 0) ?? []).reduce(0) { $0 + $1.cin * $1.cout + $1.cout }
        return arrays + head + 1
    }

    public var receptiveField: Int { 1 + layerArrays.reduce(0) { $0 + $1.receptiveField - 1 } }

    public static let maxHistoryBytes = 256 << 20

    /// Knob inputs beyond the audio a WaveNet may take (`condition_size` - 1).
    public static let maxKnobs = 64

    /// Knob values the condition carries after the audio sample.
    public var knobCount: Int { (layerArrays.first?.conditionSize ?? 1) - 1 }

    /// A bound on the input history the layers keep (each layer's channels
    /// over twice its dilated span plus a block), refused above
    /// `maxHistoryBytes` before anything is allocated.
    public var historyBytes: Int {
        layerArrays.reduce(0) { total, a in
            a.dilations.reduce(total) { $0 + 4 * a.channels * 2 * 2 * ((a.kernelSize - 1) * $1 + 4096) }
        }
    }

    /// Why the arrays cannot be chained into a mono network, if they cannot.
    public var inconsistency: String? {
        guard !layerArrays.isEmpty else { return "WaveNet has no layer arrays" }
        for (i, a) in layerArrays.enumerated() {
            let name = "layer array \(i)"
            if a.dilations.isEmpty { return "\(name) has no layers" }
            if a.channels < 1 || a.kernelSize < 1 || a.headSize < 1 || a.inputSize < 1 {
                return "\(name) has a size below 1"
            }
            if a.dilations.contains(where: { $0 < 1 }) { return "\(name) has a dilation below 1" }
            if a.conditionSize < 1 || a.conditionSize > 1 + Self.maxKnobs {
                return "\(name) has condition_size \(a.conditionSize) (the audio plus 0 to \(Self.maxKnobs) knobs: 1...\(1 + Self.maxKnobs))"
            }
            if a.conditionSize != layerArrays[0].conditionSize {
                return "\(name) has condition_size \(a.conditionSize) but the first array has \(layerArrays[0].conditionSize) (every array takes the same condition)"
            }
            if a.channels > 256 || a.kernelSize > 64 || a.dilations.contains(where: { $0 > 1 << 16 }) || a.dilations.count > 256 {
                return "\(name) is larger than any model this runs (channels <= 256, kernel <= 64, dilation <= 65536)"
            }
            if i == 0 {
                if a.inputSize != 1 { return "\(name) has input_size \(a.inputSize) (the first must be 1, mono audio)" }
            } else {
                let previous = layerArrays[i - 1]
                if a.inputSize != previous.channels {
                    return "\(name) has input_size \(a.inputSize) but the previous array has \(previous.channels) channels"
                }
                if a.channels != previous.headSize {
                    return "\(name) has \(a.channels) channels but the previous array's head_size is \(previous.headSize)"
                }
            }
        }
        if historyBytes > Self.maxHistoryBytes {
            return "the layers' history would need \(historyBytes >> 20) MiB (more than any model this runs, \(Self.maxHistoryBytes >> 20) MiB)"
        }
        if let h = head {
            if h.layers < 1 || h.channels < 1 { return "head has no layers" }
            if h.outChannels != 1 { return "head has out_channels \(h.outChannels) (only mono output, 1, is supported)" }
        } else if layerArrays.last!.headSize != 1 {
            return "the last layer array has head_size \(layerArrays.last!.headSize) and there is no head (mono output needs 1)"
        }
        return nil
    }
}

/// A NAM WaveNet: configuration plus the flat weight array exactly as the
/// file stores it.
public struct NAMWaveNetBlueprint: NetworkBlueprint, Equatable {
    public var config: NAMWaveNetConfig
    public var weights: [Float]
    public var precision: NAMActivationPrecision

    /// The caller has checked `config.inconsistency == nil` and the weight count.
    public init(config: NAMWaveNetConfig, weights: [Float], precision: NAMActivationPrecision = .fast) {
        precondition(config.inconsistency == nil, config.inconsistency ?? "")
        precondition(weights.count == config.weightCount, "weight count does not match the configuration")
        self.config = config
        self.weights = weights
        self.precision = precision
    }

    public var architectureName: String { "nam-wavenet" }
    /// The knobs: NAM's condition is the audio sample followed by these.
    public var conditioningSize: Int { config.knobCount }
    /// The output multiplier, stored as the last weight.
    public var headScale: Float { weights[weights.count - 1] }

    public func with(precision: NAMActivationPrecision) -> NAMWaveNetBlueprint {
        var copy = self
        copy.precision = precision
        return copy
    }

    public func makeNetwork() -> any StreamingNetwork { NAMWaveNet(self) }
}
