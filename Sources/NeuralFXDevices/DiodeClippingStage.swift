import RealModule

/// The clipping amplifier of a Tube Screamer-style pedal: a non-inverting
/// op-amp stage whose feedback path holds the drive resistance, a small
/// capacitor and two antiparallel silicon diodes; its lower leg is a series
/// RC to ground.
///
/// With an ideal op-amp the inverting input follows the input `u`, so the
/// leg current i = (u - vc)/R_leg flows entirely through the feedback path.
/// With v the voltage across that path (output = u + v):
///
///     C_leg dvc/dt = (u - vc) / R_leg
///     C_f   dv/dt  = i - v / R_f - 2 I_s sinh(v / (n V_T))
///
/// Both equations are stepped with backward Euler, which is L-stable: the
/// diode term makes the second equation very stiff when the diodes conduct,
/// and the trapezoidal rule would ring at the Nyquist frequency there. The
/// implicit equation for v is solved by Newton's method inside a bracket
/// (the root lies between 0 and the diode-free solution), falling back to
/// bisection whenever a Newton step leaves it, so it always converges.
struct DiodeClippingStage {
    // Component values of the classic circuit (TS-808/TS9 family).
    static let legResistance = 4.7e3
    static let legCapacitance = 47e-9
    static let fixedFeedbackResistance = 51e3
    static let drivePotResistance = 500e3
    static let feedbackCapacitance = 51e-12
    // 1N914-class silicon diode: saturation current and emission coefficient.
    static let saturationCurrent = 2.52e-9
    static let emissionThermalVoltage = 1.752 * 0.02585
    /// Newton stops after a step smaller than this (volts): convergence is
    /// quadratic there, so the remaining error is below 1e-10 V, far below
    /// what a 32-bit float output resolves.
    static let tolerance = 1e-6
    /// Bisection alone would reach the tolerance from a 1 V bracket in 30
    /// steps; Newton normally needs 2-4.
    static let maximumIterations = 40

    private let step: Double
    private let legCoefficient: Double
    private var feedbackConductance: Double
    private var vc = 0.0
    private var v = 0.0
    private var previousV = 0.0

    init(sampleRate: Double) {
        step = 1 / sampleRate
        legCoefficient = step / (Self.legResistance * Self.legCapacitance)
        feedbackConductance = 1 / Self.fixedFeedbackResistance
    }

    /// Drive 0..1 on an audio (exponential) taper like the pot it models.
    mutating func setDrive(_ drive: Double) {
        let taper = (Double.pow(10, 2 * drive) - 1) / 99
        feedbackConductance = 1 / (Self.fixedFeedbackResistance + Self.drivePotResistance * taper)
    }

    mutating func reset() {
        vc = 0
        v = 0
        previousV = 0
    }

    /// One oversampled step: input voltage in, op-amp output voltage out.
    @inline(__always)
    mutating func process(_ u: Double) -> Double {
        vc = (vc + legCoefficient * u) / (1 + legCoefficient)
        let current = (u - vc) / Self.legResistance
        let capacitive = Self.feedbackCapacitance / step
        let a = capacitive + feedbackConductance
        let b = current + capacitive * v
        // f(x) = a x + 2 Is sinh(x / nVt) - b is increasing in x. Each of
        // its two terms alone would reach b, so the root lies between 0 and
        // the smaller of the resistive-only and the diode-only solutions.
        let inverseNVt = 1 / Self.emissionThermalVoltage
        let resistiveOnly = abs(b) / a
        // Below a few tenths of a volt the diodes barely conduct and the
        // resistive bound is the tighter one; skip the logarithm there.
        let bound = resistiveOnly < 0.3 ? resistiveOnly
            : min(resistiveOnly, Self.emissionThermalVoltage * Double.asinh(abs(b) / (2 * Self.saturationCurrent)))
        var low = b < 0 ? -bound : 0, high = b < 0 ? 0 : bound
        // Linear extrapolation of the last two steps starts Newton close.
        var x = min(max(2 * v - previousV, low), high)
        for _ in 0..<Self.maximumIterations {
            let e = Double.exp(x * inverseNVt)
            let inverseE = 1 / e
            let f = a * x + Self.saturationCurrent * (e - inverseE) - b
            if f > 0 { high = x } else { low = x }
            let slope = a + Self.saturationCurrent * inverseNVt * (e + inverseE)
            var next = x - f / slope
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            let change = abs(next - x)
            x = next
            if change <= Self.tolerance { break }
        }
        previousV = v
        v = x
        return u + v
    }
}
