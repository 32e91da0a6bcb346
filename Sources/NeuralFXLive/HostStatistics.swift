import Glibc
import Synchronization

/// What the audio thread reports to the rest of the program: meters, load,
/// xruns, allocation counts. Written by the audio (or driver) thread with
/// atomic stores, read by anyone; nothing here blocks either side.
public final class HostStatistics: @unchecked Sendable {
    // Peaks and energies are Float bit patterns; the reader swaps in zero so
    // each reading covers the time since the previous one.
    private let inputPeakBits = Atomic<UInt32>(0)
    private let outputPeakBits = Atomic<UInt32>(0)
    private let inputEnergyBits = Atomic<UInt64>(0)
    private let outputEnergyBits = Atomic<UInt64>(0)
    private let loadBits = Atomic<UInt64>(0)
    private let maxLoadBits = Atomic<UInt64>(0)
    // Sums of callback time and period time, for the mean load.
    private let busyBits = Atomic<UInt64>(0)
    private let periodBits = Atomic<UInt64>(0)

    let xrunCount = Atomic<Int>(0)
    let callbackCount = Atomic<Int>(0)
    let allocationCount = Atomic<Int>(0)
    let framesProcessed = Atomic<Int>(0)
    let modelSwitches = Atomic<Int>(0)
    let midiMessages = Atomic<Int>(0)

    public init() {}

    public var xruns: Int { xrunCount.load(ordering: .relaxed) }
    public var callbacks: Int { callbackCount.load(ordering: .relaxed) }
    /// Heap allocations and frees counted inside the audio callback.
    public var callbackAllocations: Int { allocationCount.load(ordering: .relaxed) }
    public var frames: Int { framesProcessed.load(ordering: .relaxed) }
    public var switches: Int { modelSwitches.load(ordering: .relaxed) }
    public var midiMessagesReceived: Int { midiMessages.load(ordering: .relaxed) }
    /// Share of the period spent in the last callback (1 = the whole period).
    public var dspLoad: Double { Double(bitPattern: loadBits.load(ordering: .relaxed)) }
    public var maxDSPLoad: Double { Double(bitPattern: maxLoadBits.load(ordering: .relaxed)) }
    /// Callback time over period time, since the start.
    public var meanDSPLoad: Double {
        let p = Double(bitPattern: periodBits.load(ordering: .relaxed))
        return p > 0 ? Double(bitPattern: busyBits.load(ordering: .relaxed)) / p : 0
    }

    public func noteXrun() { xrunCount.wrappingAdd(1, ordering: .relaxed) }

    /// One callback took `elapsed` seconds of a `period`-second period.
    public func noteCallback(elapsed: Double, period: Double, allocations: Int) {
        let load = elapsed / period
        add(busyBits, elapsed)
        add(periodBits, period)
        callbackCount.wrappingAdd(1, ordering: .relaxed)
        if allocations != 0 { allocationCount.wrappingAdd(allocations, ordering: .relaxed) }
        loadBits.store(load.bitPattern, ordering: .relaxed)
        if load > maxDSPLoad { maxLoadBits.store(load.bitPattern, ordering: .relaxed) }
    }

    func noteLevels(inputPeak: Float, outputPeak: Float, inputEnergy: Double, outputEnergy: Double) {
        raise(inputPeakBits, to: inputPeak)
        raise(outputPeakBits, to: outputPeak)
        add(inputEnergyBits, inputEnergy)
        add(outputEnergyBits, outputEnergy)
    }

    private func raise(_ bits: borrowing Atomic<UInt32>, to value: Float) {
        var old = bits.load(ordering: .relaxed)
        while value > Float(bitPattern: old) {
            let (done, now) = bits.compareExchange(expected: old, desired: value.bitPattern, ordering: .relaxed)
            if done { break }
            old = now
        }
    }

    private func add(_ bits: borrowing Atomic<UInt64>, _ value: Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let (done, now) = bits.compareExchange(expected: old, desired: (Double(bitPattern: old) + value).bitPattern,
                                                   ordering: .relaxed)
            if done { break }
            old = now
        }
    }

    /// Levels since the previous call: peaks (linear) and the output/input
    /// energy ratio in dB (negative while a compressor reduces gain).
    public func takeLevels() -> (inputPeak: Float, outputPeak: Float, gainChangeDecibels: Double?) {
        let i = Float(bitPattern: inputPeakBits.exchange(0, ordering: .relaxed))
        let o = Float(bitPattern: outputPeakBits.exchange(0, ordering: .relaxed))
        let ei = Double(bitPattern: inputEnergyBits.exchange(0, ordering: .relaxed))
        let eo = Double(bitPattern: outputEnergyBits.exchange(0, ordering: .relaxed))
        // Below about -80 dBFS the ratio says nothing useful.
        let gain: Double? = (ei > 1e-8 && eo > 0) ? 10 * log10(eo / ei) : nil
        return (i, o, gain)
    }
}
