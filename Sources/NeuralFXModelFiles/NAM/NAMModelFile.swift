import Foundation
import NeuralFXCore

/// Reads Neural Amp Modeler captures (.nam): JSON with `version`,
/// `architecture`, `config`, a flat `weights` array, an optional
/// `sample_rate` (absent in early files, which NAM reads as 48 kHz) and free
/// `metadata`. File versions 0.5.x; architectures WaveNet, LSTM and Linear.
/// NAM models have no knobs. Everything in the file is checked before use;
/// refusals are one-line `ModelFileError`s.
public enum NAMModelFile {
    public static let defaultSampleRate = 48000.0
    public static let architectures = ["WaveNet", "LSTM", "Linear"]
    /// Key of the info entry holding the capture's loudness, "<dB> dB".
    public static let loudnessKey = "loudness"

    /// Whether bytes are a .nam file rather than safetensors: by extension,
    /// else by a leading `{` (a safetensors file has its JSON header at byte 8).
    public static func looksLikeNAM(_ data: Data, path: String) -> Bool {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        if ext == "nam" || ext == "json" { return true }
        if ext == "safetensors" { return false }
        guard let first = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") else { return false }
        return !(data.count > 8 && data[data.startIndex + 8] == UInt8(ascii: "{"))
    }

    public static func load(_ data: Data, path: String = "") throws -> EffectModel {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path, reason) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw fail("is not valid JSON (a truncated or damaged .nam file?)")
        }
        guard let root = object as? [String: Any] else { throw fail("is JSON but not a .nam object") }
        guard let version = root["version"] as? String else { throw fail("has no 'version' string (not a .nam file?)") }
        let parts = version.split(separator: ".")
        guard parts.count == 3, parts[0] == "0", parts[1] == "5", parts.allSatisfy({ Int($0) != nil }) else {
            throw fail(".nam version \(version) is not supported (supported: 0.5.x)")
        }
        guard let architecture = root["architecture"] as? String else { throw fail("has no 'architecture' string") }
        guard architectures.contains(architecture) else {
            throw fail("architecture '\(architecture)' is not supported (supported: \(architectures.joined(separator: ", ")))")
        }
        guard let config = root["config"] as? [String: Any] else { throw fail("has no 'config' object") }
        guard let rawWeights = root["weights"] as? [Any] else { throw fail("has no 'weights' array") }
        var weights = [Float]()
        weights.reserveCapacity(rawWeights.count)
        for (i, w) in rawWeights.enumerated() {
            guard let v = JSONValue.number(w) else { throw fail("weight \(i) is not a number") }
            let f = Float(v)
            guard f.isFinite else { throw fail("weight \(i) is not finite in float32 (\(v))") }
            weights.append(f)
        }
        var rate = defaultSampleRate
        if let r = root["sample_rate"], !(r is NSNull) {
            guard let v = JSONValue.number(r), v >= 8000, v <= 384_000 else {
                throw fail("'sample_rate' is not a rate between 8000 and 384000")
            }
            rate = v
        }
        let metadata = root["metadata"] as? [String: Any] ?? [:]

        let reader = ConfigReader(path: path, architecture: architecture)
        let blueprint: any NetworkBlueprint
        let layout: String
        func checkCount(_ expected: Int) throws {
            guard weights.count == expected else {
                throw fail("has \(weights.count) weights but its \(architecture) configuration needs \(expected)")
            }
        }
        switch architecture {
        case "WaveNet":
            let c = try reader.waveNet(config)
            try checkCount(c.weightCount)
            blueprint = NAMWaveNetBlueprint(config: c, weights: weights)
            let arrays = c.layerArrays.map { "\($0.channels)ch x \($0.dilations.count)\($0.gated ? " gated" : "")" }
            layout = "WaveNet (\(arrays.joined(separator: ", ")); receptive field \(c.receptiveField) samples)"
        case "LSTM":
            let (layers, hidden) = try reader.lstm(config)
            try checkCount(NAMLSTMBlueprint.weightCount(layers: layers, inputSize: 1, hiddenSize: hidden))
            blueprint = NAMLSTMBlueprint(layers: layers, inputSize: 1, hiddenSize: hidden, weights: weights,
                                         prewarmFrames: Int(0.5 * rate))
            layout = "LSTM (\(layers) layer\(layers == 1 ? "" : "s") of \(hidden))"
        default:
            let (taps, bias) = try reader.linear(config)
            try checkCount(taps + (bias ? 1 : 0))
            blueprint = NAMLinearBlueprint(taps: Array(weights.prefix(taps)), bias: bias ? weights[taps] : nil)
            layout = "Linear (FIR of \(taps) taps\(bias ? " with bias" : ""))"
        }
        let fileName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let name = (metadata["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? fileName
        return EffectModel(name: name, blueprint: blueprint, sampleRate: rate, knobs: .empty,
                           info: info(metadata, version: version, layout: layout, weightCount: weights.count,
                                      rate: rate, rateGiven: JSONValue.number(root["sample_rate"]) != nil))
    }

    static func info(_ m: [String: Any], version: String, layout: String, weightCount: Int, rate: Double,
                     rateGiven: Bool) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = [("format", "Neural Amp Modeler .nam \(version)"),
                                                   ("architecture", "\(layout), \(weightCount) weights")]
        if !rateGiven { out.append(("sample rate in file", "none (read as NAM's default, \(Int(rate)) Hz)")) }
        func text(_ key: String) -> String? {
            switch m[key] {
            case let s as String where !s.isEmpty: return s
            case let n as NSNumber where JSONValue.number(n) != nil: return "\(n)"
            default: return nil
            }
        }
        let gear = [text("gear_make"), text("gear_model")].compactMap { $0 }.joined(separator: " ")
        if !gear.isEmpty { out.append(("gear", gear + (text("gear_type").map { " (\($0))" } ?? ""))) }
        else if let t = text("gear_type") { out.append(("gear", t)) }
        if let t = text("tone_type") { out.append(("tone type", t)) }
        if let l = JSONValue.number(m["loudness"]), l.isFinite {
            out.append((loudnessKey, String(format: "%.2f dB", l)))
        }
        if let g = text("gain") { out.append(("gain", g)) }
        if let t = text("input_level_dbu") { out.append(("input level", "\(t) dBu")) }
        if let t = text("output_level_dbu") { out.append(("output level", "\(t) dBu")) }
        if let training = m["training"] as? [String: Any], let esr = training["validation_esr"] as? NSNumber,
           JSONValue.number(esr) != nil {
            out.append(("training ESR", "\(esr)"))
        }
        if let t = text("modeled_by") { out.append(("modeled by", t)) }
        if let d = m["date"] as? [String: Any], let y = d["year"] as? Int, let mo = d["month"] as? Int, let day = d["day"] as? Int {
            out.append(("date", String(format: "%04d-%02d-%02d", y, mo, day)))
        }
        return out
    }

    /// The capture's loudness in dB, from a model this loader made.
    public static func loudness(of model: EffectModel) -> Double? {
        guard let entry = model.info.first(where: { $0.key == loudnessKey }) else { return nil }
        return Double(entry.value.split(separator: " ").first ?? "")
    }
}

/// NAM's output-level option: play the capture as it came out of training
/// (`raw`), or scale it so its measured loudness (the file's `loudness`
/// metadata, NAM's RMS level in dB of its standard test signal) lands on a
/// target level, as NAM's plugin does with output normalization (target -18 dB).
public enum NAMOutputLevel: Equatable, Sendable {
    case raw
    case normalized(targetDecibels: Double)

    public static let defaultTargetDecibels = -18.0
    public static let normalized = NAMOutputLevel.normalized(targetDecibels: defaultTargetDecibels)

    /// The command-line spelling: `raw` or `normalized`.
    public init?(name: String) {
        switch name {
        case "raw": self = .raw
        case "normalized": self = .normalized
        default: return nil
        }
    }

    public static let optionHelp = "Output level of Neural Amp Modeler captures: raw, or normalized "
        + "(from the loudness the .nam file states, to \(Int(defaultTargetDecibels)) dB)."

    /// The output gain to apply (for `EffectEngine.setOutputGain(decibels:)`):
    /// 0 dB when raw or when the file states no loudness.
    public func gainDecibels(for model: EffectModel) -> Double {
        guard case .normalized(let target) = self, let loudness = NAMModelFile.loudness(of: model) else { return 0 }
        return target - loudness
    }
}

/// Typed access to a .nam `config` object with one-line refusals.
struct ConfigReader {
    let path: String
    let architecture: String

    func fail(_ reason: String) -> ModelFileError { ModelFileError(path, "\(architecture) config: \(reason)") }

    func int(_ d: [String: Any], _ key: String, _ context: String, in range: ClosedRange<Int>) throws -> Int {
        guard let n = JSONValue.number(d[key]), let v = Int(exactly: n) else {
            throw fail("\(context)'\(key)' is missing or not an integer")
        }
        guard range.contains(v) else { throw fail("\(context)'\(key)' is \(v), outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func bool(_ d: [String: Any], _ key: String, _ context: String) throws -> Bool {
        guard let b = JSONValue.bool(d[key]) else { throw fail("\(context)'\(key)' is missing or not true/false") }
        return b
    }

    func activation(_ d: [String: Any], _ key: String, _ context: String) throws -> NAMActivation {
        guard let name = d[key] as? String else { throw fail("\(context)'\(key)' is missing or not a name") }
        guard let a = NAMActivation(rawValue: name) else {
            throw fail("\(context)activation '\(name)' is not supported (supported: \(NAMActivation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return a
    }

    func waveNet(_ config: [String: Any]) throws -> NAMWaveNetConfig {
        guard let layers = config["layers"] as? [Any], !layers.isEmpty else { throw fail("'layers' is missing or empty") }
        guard layers.count <= 16 else { throw fail("\(layers.count) layer arrays, more than any model this runs (16)") }
        var arrays: [NAMWaveNetLayerArrayConfig] = []
        for (i, any) in layers.enumerated() {
            let ctx = "layer array \(i): "
            guard let l = any as? [String: Any] else { throw fail("\(ctx)is not an object") }
            guard let ds = l["dilations"] as? [Any], !ds.isEmpty else { throw fail("\(ctx)'dilations' is missing or empty") }
            var dilations: [Int] = []
            for d in ds {
                guard let n = JSONValue.number(d), let v = Int(exactly: n), v >= 1, v <= 65536 else {
                    throw fail("\(ctx)a dilation is not an integer in 1...65536")
                }
                dilations.append(v)
            }
            arrays.append(NAMWaveNetLayerArrayConfig(
                inputSize: try int(l, "input_size", ctx, in: 1...256), conditionSize: try int(l, "condition_size", ctx, in: 1...256),
                headSize: try int(l, "head_size", ctx, in: 1...256), channels: try int(l, "channels", ctx, in: 1...256),
                kernelSize: try int(l, "kernel_size", ctx, in: 1...64), dilations: dilations,
                activation: try activation(l, "activation", ctx), gated: try bool(l, "gated", ctx),
                headBias: try bool(l, "head_bias", ctx)))
        }
        var head: NAMWaveNetHeadConfig? = nil
        if let h = config["head"], !(h is NSNull) {
            guard let h = h as? [String: Any] else { throw fail("'head' is neither null nor an object") }
            head = NAMWaveNetHeadConfig(channels: try int(h, "channels", "head: ", in: 1...256),
                                        activation: try activation(h, "activation", "head: "),
                                        layers: try int(h, "num_layers", "head: ", in: 1...16),
                                        outChannels: try int(h, "out_channels", "head: ", in: 1...256))
            if let cin = JSONValue.number(h["in_channels"]), Int(exactly: cin) != arrays.last!.headSize {
                throw fail("head: 'in_channels' is \(Int(exactly: cin).map(String.init) ?? "\(cin)") but the last layer array's head_size is \(arrays.last!.headSize)")
            }
        }
        guard JSONValue.number(config["head_scale"]) != nil else { throw fail("'head_scale' is missing or not a number") }
        let c = NAMWaveNetConfig(layerArrays: arrays, head: head)
        if let problem = c.inconsistency { throw fail(problem) }
        if c.knobCount > 0 {
            throw fail("condition_size \(c.knobCount + 1) asks for knobs, which a .nam file cannot describe (knob-conditioned WaveNets are .safetensors files)")
        }
        return c
    }

    func lstm(_ config: [String: Any]) throws -> (layers: Int, hidden: Int) {
        let input = try int(config, "input_size", "", in: 1...64)
        guard input == 1 else { throw fail("'input_size' is \(input) (only mono audio, 1, is supported)") }
        // Bounds well above NAM's largest LSTMs (4 x 64) that keep the half
        // second of prewarm at load time short.
        return (try int(config, "num_layers", "", in: 1...4), try int(config, "hidden_size", "", in: 1...128))
    }

    func linear(_ config: [String: Any]) throws -> (taps: Int, bias: Bool) {
        (try int(config, "receptive_field", "", in: 1...65536), try bool(config, "bias", ""))
    }
}

/// JSONSerialization hands back numbers and booleans alike as `NSNumber`
/// (and on Linux `1 as? Bool` succeeds), so the two are told apart by the
/// number's stored type.
enum JSONValue {
    static func number(_ value: Any?) -> Double? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return n.doubleValue
    }

    static func bool(_ value: Any?) -> Bool? {
        guard let n = value as? NSNumber, String(cString: n.objCType) == "c" else { return nil }
        return n.boolValue
    }
}
