/// The hyperparameters of micro-tcn's `TCNModel` (Steinmetz & Reiss 2021),
/// with the same names and defaults, plus the block activation (PReLU in the
/// paper) for experiments.
public struct MicroTCNConfig: Codable, Equatable, Sendable {
    public var nparams: Int
    public var ninputs: Int = 1
    public var noutputs: Int = 1
    public var nblocks: Int = 10
    public var kernelSize: Int = 3
    public var dilationGrowth: Int = 1
    public var channelGrowth: Int = 1
    public var channelWidth: Int = 32
    public var stackSize: Int = 10
    public var grouped: Bool = false
    public var causal: Bool = true
    public var skipConnections: Bool = false
    public var activation: ActivationKind = .prelu
    /// Samples by which each block's residual lags its convolution's newest
    /// tap: 1 in micro-tcn (its causal crop stops one sample short), so an
    /// imported model keeps it; 0 aligns them, which lets a network pass its
    /// input through unchanged, the start fxtrain trains from.
    public var residualDelay: Int = 1
    /// Whether the model's output is taken relative to its output after
    /// endless silence at the current knob values, so silence in gives
    /// silence out. FiLM shifts and biases otherwise leave a small constant
    /// (about -80 dBFS in trained compressors) that depends on the knobs.
    /// fxtrain sets it; micro-tcn's own models do not have it, so imported
    /// ones compute exactly what PyTorch computes.
    public var silenceReferenced: Bool = false
    /// Learned envelopes of the input's power that feed the first block
    /// (`EnvelopeSideChain`): memory over seconds at constant cost. nil (not
    /// written to model files) or 0: none, as in micro-tcn.
    public var envelopeChannels: Int?
    /// A learned compressor side-chain whose gain multiplies the output
    /// (`GainComputer`). nil (not written to model files) or false: none.
    public var gainComputer: Bool?
    /// Whether the gain computer's detector hears the gained signal
    /// (`GainComputer.feedback`). nil (not written to model files) or false:
    /// it hears the input.
    public var gainFeedback: Bool?
    /// Whether the gain computer is the optical cell: a peak detector and a
    /// slow release that lengthens with a memory of heavy reduction
    /// (`GainComputer.opticalCell`). nil (not written to model files) or
    /// false: a power detector and fixed releases.
    public var gainCell: Bool?

    /// The number of envelopes (0: none).
    public var envelopes: Int { envelopeChannels ?? 0 }
    public var hasGainComputer: Bool { gainComputer ?? false }
    public var hasGainFeedback: Bool { hasGainComputer && (gainFeedback ?? false) }
    public var hasGainCell: Bool { hasGainComputer && (gainCell ?? false) }
    /// Whether some part of the model remembers beyond the receptive field
    /// (and so trains with a warm-up in front of each chunk).
    public var hasLongMemory: Bool { envelopes > 0 || hasGainComputer }

    enum CodingKeys: String, CodingKey {
        case nparams, ninputs, noutputs, nblocks
        case kernelSize = "kernel_size", dilationGrowth = "dilation_growth", channelGrowth = "channel_growth"
        case channelWidth = "channel_width", stackSize = "stack_size", grouped, causal
        case skipConnections = "skip_connections", activation, residualDelay = "residual_delay"
        case silenceReferenced = "silence_referenced", envelopeChannels = "envelope_channels"
        case gainComputer = "gain_computer", gainFeedback = "gain_feedback", gainCell = "gain_cell"
    }

    public init(nparams: Int, nblocks: Int, kernelSize: Int, dilationGrowth: Int, channelWidth: Int = 32,
                stackSize: Int = 10, activation: ActivationKind = .prelu) {
        self.nparams = nparams
        self.nblocks = nblocks
        self.kernelSize = kernelSize
        self.dilationGrowth = dilationGrowth
        self.channelWidth = channelWidth
        self.stackSize = stackSize
        self.activation = activation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nparams = try c.decode(Int.self, forKey: .nparams)
        ninputs = try c.decodeIfPresent(Int.self, forKey: .ninputs) ?? 1
        noutputs = try c.decodeIfPresent(Int.self, forKey: .noutputs) ?? 1
        nblocks = try c.decodeIfPresent(Int.self, forKey: .nblocks) ?? 10
        kernelSize = try c.decodeIfPresent(Int.self, forKey: .kernelSize) ?? 3
        dilationGrowth = try c.decodeIfPresent(Int.self, forKey: .dilationGrowth) ?? 1
        channelGrowth = try c.decodeIfPresent(Int.self, forKey: .channelGrowth) ?? 1
        channelWidth = try c.decodeIfPresent(Int.self, forKey: .channelWidth) ?? 32
        stackSize = try c.decodeIfPresent(Int.self, forKey: .stackSize) ?? 10
        grouped = try c.decodeIfPresent(Bool.self, forKey: .grouped) ?? false
        causal = try c.decodeIfPresent(Bool.self, forKey: .causal) ?? true
        skipConnections = try c.decodeIfPresent(Bool.self, forKey: .skipConnections) ?? false
        activation = try c.decodeIfPresent(ActivationKind.self, forKey: .activation) ?? .prelu
        residualDelay = try c.decodeIfPresent(Int.self, forKey: .residualDelay) ?? 1
        silenceReferenced = try c.decodeIfPresent(Bool.self, forKey: .silenceReferenced) ?? false
        envelopeChannels = try c.decodeIfPresent(Int.self, forKey: .envelopeChannels)
        gainComputer = try c.decodeIfPresent(Bool.self, forKey: .gainComputer)
        gainFeedback = try c.decodeIfPresent(Bool.self, forKey: .gainFeedback)
        gainCell = try c.decodeIfPresent(Bool.self, forKey: .gainCell)
    }

    /// Envelopes of the `-env` configurations: six time constants, about a
    /// factor of three apart from 10 ms to 3 s.
    public static let defaultEnvelopes = 6

    /// The named configurations of the paper (all causal), and each with
    /// the envelope side-chain when the name ends in `-env`, with the gain
    /// computer when it ends in `-gain`, with its feedback topology when it
    /// ends in `-gain-fb`, and with feedback and the optical cell when it
    /// ends in `-gain-cell`.
    public static func named(_ name: String, nparams: Int) -> MicroTCNConfig? {
        let lower = name.lowercased()
        if lower.hasSuffix("-gain-cell") {
            guard var c = named(String(lower.dropLast(5)) + "-fb", nparams: nparams) else { return nil }
            c.gainCell = true
            return c
        }
        if lower.hasSuffix("-gain-fb") {
            guard var c = named(String(lower.dropLast(3)), nparams: nparams) else { return nil }
            c.gainFeedback = true
            return c
        }
        if lower.hasSuffix("-gain") {
            guard var c = named(String(lower.dropLast(5)), nparams: nparams) else { return nil }
            c.gainComputer = true
            return c
        }
        if lower.hasSuffix("-env") {
            guard var c = named(String(lower.dropLast(4)), nparams: nparams) else { return nil }
            c.envelopeChannels = defaultEnvelopes
            return c
        }
        switch lower {
        // utcn-100-c less its widest block: a 10 ms receptive field, for a
        // network that models only colour beside a gain computer (issue 17).
        case "utcn-10-c", "utcn-10": return MicroTCNConfig(nparams: nparams, nblocks: 3, kernelSize: 5, dilationGrowth: 10)
        case "utcn-100-c", "utcn-100": return MicroTCNConfig(nparams: nparams, nblocks: 4, kernelSize: 5, dilationGrowth: 10)
        case "utcn-300-c", "utcn-300": return MicroTCNConfig(nparams: nparams, nblocks: 4, kernelSize: 13, dilationGrowth: 10)
        case "utcn-1000-c", "utcn-1000": return MicroTCNConfig(nparams: nparams, nblocks: 5, kernelSize: 5, dilationGrowth: 10)
        case "tcn-324", "tcn-324-c": return MicroTCNConfig(nparams: nparams, nblocks: 10, kernelSize: 15, dilationGrowth: 2)
        default: return nil
        }
    }

    public static let namedConfigurations = ["utcn-100-c", "utcn-300-c", "utcn-1000-c", "tcn-324", "utcn-100-c-env", "utcn-100-c-gain",
                                             "utcn-100-c-gain-fb", "utcn-100-c-gain-cell", "utcn-10-c-gain-cell"]

    public func dilation(ofBlock n: Int) -> Int {
        var d = 1
        for _ in 0..<(n % stackSize) { d *= dilationGrowth }
        return d
    }

    public func inChannels(ofBlock n: Int) -> Int { n == 0 ? ninputs : outChannels(ofBlock: n - 1) }

    public func outChannels(ofBlock n: Int) -> Int {
        if channelGrowth > 1 {
            var c = ninputs
            for _ in 0...n { c *= channelGrowth }
            return c
        }
        return channelWidth
    }

    /// Channels coming out of the block's convolution (the gated unit needs twice the block width).
    public func convChannels(ofBlock n: Int) -> Int { outChannels(ofBlock: n) * activation.inputChannelsPerOutput }

    public func convGroups(ofBlock n: Int) -> Int {
        let cin = inChannels(ofBlock: n), cout = convChannels(ofBlock: n)
        return grouped && cin % cout == 0 ? cout : 1
    }

    public var receptiveField: Int {
        var rf = 1
        for n in 0..<nblocks { rf += (kernelSize - 1) * dilation(ofBlock: n) }
        return rf
    }

    /// Why this configuration cannot run here, if it cannot.
    public var unsupportedReason: String? {
        if !causal { return "non-causal micro-tcn models need future samples and cannot stream; only causal models are supported" }
        if skipConnections { return "micro-tcn skip connections are not supported" }
        if ninputs != 1 || noutputs != 1 { return "only mono models (ninputs = noutputs = 1) are supported" }
        if nblocks < 1 || nblocks > 64 { return "nblocks \(nblocks) is outside 1...64" }
        if kernelSize < 1 || kernelSize > 255 { return "kernel_size \(kernelSize) is outside 1...255" }
        if channelWidth < 1 || channelWidth > 1024 { return "channel_width \(channelWidth) is outside 1...1024" }
        if dilationGrowth < 1 || stackSize < 1 || channelGrowth < 1 { return "dilation_growth, stack_size and channel_growth must be positive" }
        if receptiveField > 1 << 22 { return "receptive field of \(receptiveField) samples is too long" }
        if residualDelay != 0 && residualDelay != 1 { return "residual_delay \(residualDelay) must be 0 or 1" }
        if nparams < 0 || nparams > 64 { return "nparams \(nparams) is outside 0...64" }
        if channelGrowth > 1 && outChannels(ofBlock: nblocks - 1) > 1024 { return "channel growth makes more than 1024 channels" }
        if envelopes < 0 || envelopes > 64 { return "envelope_channels \(envelopes) is outside 0...64" }
        if envelopes > 0 && grouped { return "envelope_channels does not combine with grouped convolutions" }
        return nil
    }

    /// Multiply-adds per output sample at inference (folded FiLM, activation not counted).
    public var multiplyAddsPerSample: Int {
        var total = 0
        for n in 0..<nblocks {
            let cin = inChannels(ofBlock: n), cc = convChannels(ofBlock: n), cout = outChannels(ofBlock: n)
            total += cc * (cin / convGroups(ofBlock: n)) * kernelSize
            if grouped { total += cc * cc }
            total += cc + cout  // folded affine and residual
        }
        // Envelopes: the recurrence, and the projection into block 0.
        total += envelopes * (2 + convChannels(ofBlock: 0))
        // The gain computer: about a dozen multiply-adds, a log and an exp.
        if hasGainComputer { total += 12 }
        return total + outChannels(ofBlock: nblocks - 1)
    }
}
