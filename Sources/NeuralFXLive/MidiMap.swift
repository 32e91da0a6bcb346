import NeuralFXCore

/// Which MIDI control-change numbers move which knobs: `cc7=peak,cc1=drive`.
public struct MidiMap: Equatable, Sendable {
    /// Controller number (0...127) to knob name.
    public var knobForController: [Int: String]

    public init(_ knobForController: [Int: String] = [:]) { self.knobForController = knobForController }

    public var description: String {
        knobForController.sorted { $0.key < $1.key }.map { "cc\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The knob value a controller value (0...127) selects: the knob's range
    /// spread linearly over 0...127; a switch's positions split it evenly.
    public static func knobValue(controllerValue: Int, of knob: KnobSpec) -> Double {
        let v = min(max(controllerValue, 0), 127)
        if knob.isSwitch {
            let n = knob.positions.count
            return Double(min(v * n / 128, n - 1))
        }
        return knob.minimum + (knob.maximum - knob.minimum) * Double(v) / 127
    }
}
