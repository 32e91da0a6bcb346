import RealModule

/// Runs one model on one channel of audio, block by block.
///
/// Adds what every host needs around a bare network: knob values mapped to
/// conditioning and smoothed so a moving knob does not click, input and
/// output gain, and protection against non-finite samples. `process` accepts
/// any frame count (it splits internally), allocates nothing and takes no lock.
///
/// Until the first sample after construction or `reset`, settings are where
/// the render starts, not moves: knobs and gains take their values at once
/// and the network settles into its state after endless silence *at those
/// values*. So every render, model load and preset starts exactly as the
/// model would sound had it been sitting at the asked setting, whatever order
/// the caller set things in.
///
/// Knob smoothing is a linear ramp evaluated at a fixed control rate (every
/// `controlInterval` samples, counted from the knob change), so the result
/// depends only on when a knob moved, never on how the audio was blocked.
/// Knobs that set the output gain (a level control, see `KnobSpec`) are
/// interpolated per sample between control updates, so a level ramp moves
/// in steps of one sample, not of 32.
public final class EffectEngine {
    public let model: EffectModel
    public let network: any StreamingNetwork
    public let maxBlockSize: Int
    public var knobs: KnobSchema { model.knobs }

    /// Samples between conditioning updates while a knob ramps.
    public let controlInterval = 32
    /// Length of a knob ramp in seconds (about 20 ms by default).
    public private(set) var rampSeconds: Double

    private let current: UnsafeMutablePointer<Double>
    private let target: UnsafeMutablePointer<Double>
    private let step: UnsafeMutablePointer<Double>
    private var rampStepsLeft = 0
    private var untilNextUpdate = 0
    private let conditioning: FloatBuffer

    private var inputGain: Float = 1, inputGainTarget: Float = 1, inputGainStep: Float = 0, inputGainLeft = 0
    private var outputGain: Float = 1, outputGainTarget: Float = 1, outputGainStep: Float = 0, outputGainLeft = 0
    /// The output gain the knobs set, and its per-sample ramp to the value at
    /// the next control update.
    private var knobGain: Float = 1, knobGainTarget: Float = 1, knobGainStep: Float = 0, knobGainLeft = 0
    /// Whether any knob sets the output gain (fixed by the model).
    private let knobsSetGain: Bool
    private let scratch: FloatBuffer
    /// Whether audio went through since construction or the last reset.
    private var started = false

    /// How many times non-finite input or output forced a reset. Read it from
    /// any thread for reporting; only the processing thread writes it.
    public private(set) var nonFiniteResets = 0

    public init(model: EffectModel, maxBlockSize: Int = 4096, rampSeconds: Double = 0.02) {
        precondition(maxBlockSize > 0)
        self.model = model
        self.maxBlockSize = maxBlockSize
        self.rampSeconds = rampSeconds
        knobsSetGain = model.knobs.setsOutputGain
        network = model.blueprint.makeNetwork()
        network.prepare(maxBlockSize: maxBlockSize)
        let n = max(model.knobs.count, 1)
        current = .allocate(capacity: n)
        target = .allocate(capacity: n)
        step = .allocate(capacity: n)
        current.initialize(repeating: 0, count: n)
        target.initialize(repeating: 0, count: n)
        step.initialize(repeating: 0, count: n)
        for (i, k) in model.knobs.knobs.enumerated() { current[i] = k.defaultValue; target[i] = k.defaultValue }
        conditioning = FloatBuffer(count: max(model.knobs.conditioningSize, 1))
        scratch = FloatBuffer(count: maxBlockSize)
        applyConditioning()
        knobGain = knobGainTarget
        network.reset()
    }

    deinit {
        current.deallocate()
        target.deallocate()
        step.deallocate()
    }

    public var sampleRate: Double { model.sampleRate }
    private var rampSamples: Int { max(Int((rampSeconds * model.sampleRate).rounded()), 0) }

    public func setRampTime(seconds: Double) { rampSeconds = max(0, seconds) }

    /// The value a knob is heading to.
    public func knobValue(_ index: Int) -> Double { target[index] }

    /// The value the engine is applying now (mid-ramp it lies between the old
    /// and the new setting).
    public func appliedKnobValue(_ index: Int) -> Double { current[index] }

    /// Moves a knob. The change ramps over `rampSeconds` unless `immediately`.
    /// Allocation-free: safe on the audio thread.
    public func setKnob(_ index: Int, to value: Double, immediately: Bool = false) {
        guard index >= 0 && index < model.knobs.count else { return }
        let k = model.knobs.knobs[index]
        let v = min(max(value, k.minimum), k.maximum)
        target[index] = v
        let steps = rampSamples / controlInterval
        if immediately || steps == 0 || !started {
            current[index] = v
            step[index] = 0
            applyConditioning()
            knobGain = knobGainTarget
            knobGainLeft = 0
            if !started { network.reset() }
            return
        }
        // Restart one common ramp from wherever every knob is now.
        for i in 0..<model.knobs.count { step[i] = (target[i] - current[i]) / Double(steps) }
        rampStepsLeft = steps
        untilNextUpdate = 0
    }

    /// Gains in dB, smoothed over the ramp time.
    public func setInputGain(decibels: Double, immediately: Bool = false) {
        let g = Float(Double.pow(10, decibels / 20))
        inputGainTarget = g
        let n = immediately || !started ? 0 : rampSamples
        if n == 0 { inputGain = g; inputGainLeft = 0 } else { inputGainStep = (g - inputGain) / Float(n); inputGainLeft = n }
    }

    public func setOutputGain(decibels: Double, immediately: Bool = false) {
        let g = Float(Double.pow(10, decibels / 20))
        outputGainTarget = g
        let n = immediately || !started ? 0 : rampSamples
        if n == 0 { outputGain = g; outputGainLeft = 0 } else { outputGainStep = (g - outputGain) / Float(n); outputGainLeft = n }
    }

    /// Hands the current knob values to the network, and starts the knob
    /// gain's ramp towards their gain over the next control interval.
    private func applyConditioning() {
        if knobsSetGain {
            knobGainTarget = Float(model.knobs.outputGain(for: current))
            knobGainStep = (knobGainTarget - knobGain) / Float(controlInterval)
            knobGainLeft = controlInterval
        }
        guard model.knobs.conditioningSize > 0 else { return }
        model.knobs.conditioning(for: current, into: conditioning.pointer)
        network.setConditioning(conditioning.pointer)
    }

    /// Finishes any knob ramp and puts the network in its state after endless
    /// silence at the knob values now in force.
    public func reset() {
        finishRamps()
        network.reset()
        started = false
    }

    private func finishRamps() {
        for i in 0..<model.knobs.count { current[i] = target[i] }
        rampStepsLeft = 0
        applyConditioning()
        knobGain = knobGainTarget; knobGainLeft = 0
        inputGain = inputGainTarget; inputGainLeft = 0
        outputGain = outputGainTarget; outputGainLeft = 0
    }

    /// Processes `frameCount` samples. `input` and `output` may be the same buffer.
    public func process(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, frameCount: Int) {
        if frameCount > 0 { started = true }
        var done = 0
        while done < frameCount {
            var n = min(frameCount - done, maxBlockSize)
            if rampStepsLeft > 0 {
                if untilNextUpdate == 0 {
                    for i in 0..<model.knobs.count { current[i] += step[i] }
                    rampStepsLeft -= 1
                    if rampStepsLeft == 0 { for i in 0..<model.knobs.count { current[i] = target[i] } }
                    applyConditioning()
                    untilNextUpdate = controlInterval
                }
                n = min(n, untilNextUpdate)
                untilNextUpdate -= n
            }
            processSegment(input + done, output + done, n)
            done += n
        }
    }

    private func processSegment(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ n: Int) {
        let x = scratch.pointer
        var finite = true
        for i in 0..<n {
            var v = input[i]
            if !v.isFinite { v = 0; finite = false }
            if inputGainLeft > 0 {
                inputGain += inputGainStep
                inputGainLeft -= 1
                if inputGainLeft == 0 { inputGain = inputGainTarget }
            }
            x[i] = v * inputGain
        }
        if !finite {
            // A NaN or Inf would live in the history for a receptive field (or
            // forever through recurrent state): start over from silence.
            nonFiniteResets += 1
            network.reset()
        }
        network.process(UnsafePointer(x), output, frameCount: n)
        var outputFinite = true
        for i in 0..<n {
            if outputGainLeft > 0 {
                outputGain += outputGainStep
                outputGainLeft -= 1
                if outputGainLeft == 0 { outputGain = outputGainTarget }
            }
            if knobGainLeft > 0 {
                knobGain += knobGainStep
                knobGainLeft -= 1
                if knobGainLeft == 0 { knobGain = knobGainTarget }
            }
            let y = output[i] * (outputGain * knobGain)
            if !y.isFinite { outputFinite = false }
            output[i] = y
        }
        if !outputFinite {
            nonFiniteResets += 1
            network.reset()
            output.update(repeating: 0, count: n)
        }
    }
}
