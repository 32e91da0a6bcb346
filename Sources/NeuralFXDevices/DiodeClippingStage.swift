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
/// and the trapezoidal rule would ring at the Nyquist frequency there. Each
/// step leaves one implicit equation for v,
///
///     a v + 2 I_s sinh(v / (n V_T)) = b,   a = C_f/T + 1/R_f,
///     b = i + (C_f/T) v_previous,
///
/// solved by Newton's method inside a bracket (the root lies between 0 and
/// both the resistive-only and the diode-only solutions), falling back to
/// bisection whenever a Newton step leaves it, so it always converges. The
/// first guess comes from `DiodeEquationTable`, so one Newton step usually
/// reaches the tolerance.
struct DiodeClippingStage {
    // Component values of the classic circuit (TS-808/TS9 family).
    static let legResistance = 4.7e3
    static let legCapacitance = 47e-9
    static let fixedFeedbackResistance = 51e3
    static let drivePotResistance = 500e3
    static let feedbackCapacitance = 51e-12
    // 1N914-class silicon diode: saturation current, emission coefficient
    // times thermal voltage.
    static let saturationCurrent = 2.52e-9
    static let emissionThermalVoltage = 1.752 * 0.02585
    /// Newton stops after a step smaller than this (volts): convergence is
    /// quadratic there, so the remaining error is below 1e-10 V, far below
    /// what a 32-bit float output resolves.
    static let tolerance = 1e-6
    /// Bisection alone would reach the tolerance from a 1 V bracket in 20
    /// steps; Newton from the table's guess needs 1-2.
    static let maximumIterations = 60

    private let step: Double
    private let legCoefficient: Double
    /// 1 / (1 + legCoefficient): the backward-Euler leg update as a product.
    private let legNormalisation: Double
    private let capacitiveConductance: Double
    private var a: Double
    private var table: DiodeEquationTable
    private var vc = 0.0
    private var v = 0.0

    init(sampleRate: Double) {
        step = 1 / sampleRate
        legCoefficient = step / (Self.legResistance * Self.legCapacitance)
        legNormalisation = 1 / (1 + legCoefficient)
        capacitiveConductance = Self.feedbackCapacitance / step
        a = capacitiveConductance + 1 / Self.fixedFeedbackResistance
        table = DiodeEquationTable(a: a)
    }

    /// Drive 0..1 on an audio (exponential) taper like the pot it models.
    mutating func setDrive(_ drive: Double) {
        let taper = (Double.pow(10, 2 * drive) - 1) / 99
        a = capacitiveConductance + 1 / (Self.fixedFeedbackResistance + Self.drivePotResistance * taper)
        table.fill(a: a)
    }

    mutating func reset() {
        vc = 0
        v = 0
    }

    /// One oversampled step: input voltage in, op-amp output voltage out.
    @inline(__always)
    mutating func process(_ u: Double) -> Double {
        vc = (vc + legCoefficient * u) * legNormalisation
        let b = (u - vc) * (1 / Self.legResistance) + capacitiveConductance * v
        v = Self.solve(a: a, b: b, guess: table.guess(b))
        return u + v
    }

    /// The root of a x + 2 Is sinh(x / nVt) = b (increasing in x).
    @inline(__always)
    static func solve(a: Double, b: Double, guess: Double) -> Double {
        let inverseNVt = 1 / emissionThermalVoltage
        let resistiveOnly = b / a
        var low = min(0, resistiveOnly), high = max(0, resistiveOnly)
        var tightened = false
        var x = min(max(guess, low), high)
        for _ in 0..<maximumIterations {
            let e = Double.exp(x * inverseNVt)
            let inverseE = 1 / e
            let f = a * x + saturationCurrent * (e - inverseE) - b
            if f > 0 { high = x } else { low = x }
            let slope = a + saturationCurrent * inverseNVt * (e + inverseE)
            var next = x - f / slope
            if !(next > low && next < high) {
                if !tightened {
                    // The diode-only solution bounds the root too; it is
                    // much tighter once the diodes conduct.
                    let diodeOnly = emissionThermalVoltage * Double.asinh(b / (2 * saturationCurrent))
                    if b > 0 { high = min(high, diodeOnly) } else { low = max(low, diodeOnly) }
                    tightened = true
                }
                next = 0.5 * (low + high)
            }
            let change = abs(next - x)
            x = next
            if change <= tolerance { break }
        }
        return x
    }
}

/// Solutions of a x + 2 Is sinh(x / nVt) = b for one value of a, tabulated
/// against b on a grid that is uniform within each octave of b (fine where
/// the solution bends, from the resistive to the diode region), so a
/// first guess costs a table lookup and a linear interpolation. The table is
/// filled in place: changing drive allocates nothing.
struct DiodeEquationTable {
    /// Below this current the solution is b / a to well within tolerance.
    static let smallestCurrent = 1e-9
    static let octaves = 24  // up to about 17 mA, far beyond any input
    static let binsPerOctave = 128

    private var values: [Double]
    private var a: Double

    init(a: Double) {
        self.a = a
        values = [Double](repeating: 0, count: Self.octaves * Self.binsPerOctave + 1)
        fill(a: a)
    }

    mutating func fill(a: Double) {
        self.a = a
        let bins = Double(Self.binsPerOctave)
        var previous = 0.0
        for k in values.indices {
            let octave = k / Self.binsPerOctave, bin = k % Self.binsPerOctave
            let b = Self.smallestCurrent * Double.pow(2, Double(octave)) * (1 + Double(bin) / bins)
            previous = DiodeClippingStage.solve(a: a, b: b, guess: previous)
            values[k] = previous
        }
    }

    @inline(__always)
    func guess(_ b: Double) -> Double {
        let r = abs(b) * (1 / Self.smallestCurrent)
        guard r >= 1 else { return b / a }
        // Octave and position within it straight from the binary exponent
        // and mantissa (r is normal and positive here).
        let bits = r.bitPattern
        let octave = Int(bits >> 52) - 1023
        guard octave < Self.octaves else { return 0 }
        let mantissa = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        let position = (mantissa - 1) * Double(Self.binsPerOctave)
        let bin = Int(position)
        let t = position - Double(bin)
        let k = octave * Self.binsPerOctave + bin
        let x = values.withUnsafeBufferPointer { $0[k] + t * ($0[k + 1] - $0[k]) }
        return b < 0 ? -x : x
    }
}
