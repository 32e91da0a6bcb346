import RealModule

/// Coefficient of a one-pole smoother that covers 1 - 1/e of a step in
/// `seconds` (matched to the analog RC step response).
@inline(__always)
func onePoleCoefficient(seconds: Double, sampleRate: Double) -> Double {
    seconds <= 0 ? 1 : 1 - Double.exp(-1 / (seconds * sampleRate))
}

/// First-order low-pass, impulse-invariant from an RC with corner `hertz`.
struct OnePoleLowPass {
    private(set) var coefficient: Double
    var state: Double = 0

    init(hertz: Double, sampleRate: Double) {
        coefficient = 1 - Double.exp(-2 * Double.pi * hertz / sampleRate)
    }

    @inline(__always)
    mutating func process(_ x: Double) -> Double {
        state += coefficient * (x - state)
        return state
    }
}

/// First-order high-pass (the complement of `OnePoleLowPass`): the coupling
/// capacitor of an input stage or a DC blocker.
struct OnePoleHighPass {
    private var lowPass: OnePoleLowPass

    init(hertz: Double, sampleRate: Double) { lowPass = OnePoleLowPass(hertz: hertz, sampleRate: sampleRate) }

    @inline(__always)
    mutating func process(_ x: Double) -> Double { x - lowPass.process(x) }

    mutating func reset() { lowPass.state = 0 }
}
