import NeuralFXCore

/// A digital simulation of an analog device, used as the oracle that paired
/// datasets are rendered from and that trained models are judged against.
///
/// Processing is deterministic: the same knob values and the same input from
/// `reset()` give the same output bits on any block partition.
public protocol ReferenceDevice: AnyObject {
    /// Short name used on the command line and in dataset manifests.
    var identifier: String { get }
    var sampleRate: Double { get }
    /// The knobs, shared with the models trained on this device.
    var knobs: KnobSchema { get }
    /// Current knob values in schema order.
    var knobValues: [Double] { get }
    /// Sets knob `index` (schema order); values are clamped to the knob's range.
    func setKnob(_ index: Int, to value: Double)
    /// Samples by which the output lags the input (filter delay of the
    /// oversampler); the analog original has none.
    var latency: Int { get }
    func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int)
    /// Back to the state of a device that has only heard silence (knobs kept).
    func reset()
}

/// The devices the project simulates.
public enum DeviceKind: String, CaseIterable, Sendable {
    case la2a
    case overdrive

    public func make(sampleRate: Double = 44_100) -> any ReferenceDevice {
        switch self {
        case .la2a: return OpticalCompressor(sampleRate: sampleRate)
        case .overdrive: return Overdrive(sampleRate: sampleRate)
        }
    }

    public var knobs: KnobSchema {
        switch self {
        case .la2a: return OpticalCompressor.knobSchema
        case .overdrive: return Overdrive.knobSchema
        }
    }
}

extension ReferenceDevice {
    /// Sets a knob by name; `false` if the device has no such knob.
    @discardableResult
    public func setKnob(named name: String, to value: Double) -> Bool {
        guard let i = knobs.index(of: name) else { return false }
        setKnob(i, to: value)
        return true
    }
}

extension KnobSchema {
    /// `value` clamped into knob `index`'s range (switches to a position).
    func clamped(_ index: Int, _ value: Double) -> Double {
        let k = knobs[index]
        let v = min(max(value.isFinite ? value : k.defaultValue, k.minimum), k.maximum)
        return k.isSwitch ? v.rounded() : v
    }
}

extension ReferenceDevice {
    /// Runs `input` through the device from its current state, in blocks of
    /// `blockSize`; the output keeps the device's latency.
    public func output(for input: [Float], blockSize: Int = 4096) -> [Float] {
        renderInBlocks(input, blockSize: blockSize) { process($0, $1, frameCount: $2) }
    }

    /// The output for `input` from a fresh state (`reset()` first), shifted
    /// back by the device's latency so it lines up with the input, as an
    /// analog unit's output would.
    public func alignedOutput(_ input: [Float], blockSize: Int = 4096) -> [Float] {
        reset()
        let output = output(for: input + [Float](repeating: 0, count: latency), blockSize: blockSize)
        return Array(output[latency...])
    }
}
