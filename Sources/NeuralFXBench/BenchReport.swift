/// One model at one block size.
public struct CellReport: Codable, Sendable {
    public var blockSize: Int
    /// Processing time over audio time, on one core, by wall clock.
    public var realTimeFactor: Spread
    /// The same by the thread's CPU time (excludes time other processes had the core).
    public var cpuRealTimeFactor: Spread
    /// Arithmetic rate at the median CPU time.
    public var gflops: Double
    /// Single-core FMA peak measured between this row's timed runs (median).
    public var peakGFLOPs: Double
    /// `gflops` over the peak measured beside it.
    public var fractionOfPeak: Double
    /// State and scratch of one instance prepared for this block size.
    public var stateBytes: Int
    public var megasamplesPerSecond: Double
}

public struct ModelReport: Codable, Sendable {
    public var name: String
    public var architecture: String
    public var sampleRate: Double
    public var receptiveField: Int
    public var multiplyAddsPerSample: Int
    public var flopsPerSample: Int { 2 * multiplyAddsPerSample }
    public var streaming: [CellReport] = []
    /// The whole signal in one call.
    public var offline: CellReport?

    enum CodingKeys: String, CodingKey {
        case name, architecture, sampleRate, receptiveField, multiplyAddsPerSample, flopsPerSample, streaming, offline
    }

    public init(name: String, architecture: String, sampleRate: Double, receptiveField: Int, multiplyAddsPerSample: Int) {
        self.name = name
        self.architecture = architecture
        self.sampleRate = sampleRate
        self.receptiveField = receptiveField
        self.multiplyAddsPerSample = multiplyAddsPerSample
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        architecture = try c.decode(String.self, forKey: .architecture)
        sampleRate = try c.decode(Double.self, forKey: .sampleRate)
        receptiveField = try c.decode(Int.self, forKey: .receptiveField)
        multiplyAddsPerSample = try c.decode(Int.self, forKey: .multiplyAddsPerSample)
        streaming = try c.decode([CellReport].self, forKey: .streaming)
        offline = try c.decodeIfPresent(CellReport.self, forKey: .offline)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(sampleRate, forKey: .sampleRate)
        try c.encode(receptiveField, forKey: .receptiveField)
        try c.encode(multiplyAddsPerSample, forKey: .multiplyAddsPerSample)
        try c.encode(flopsPerSample, forKey: .flopsPerSample)
        try c.encode(streaming, forKey: .streaming)
        try c.encodeIfPresent(offline, forKey: .offline)
    }
}

public struct MachineReport: Codable, Sendable {
    public var cpu: String
    /// The vector instructions the build uses.
    public var vectorInstructions: String
    /// Single-core FMA peak measured at the start (each row has its own).
    public var peakGFLOPs: Double

    public init(cpu: String, vectorInstructions: String, peakGFLOPs: Double) {
        self.cpu = cpu
        self.vectorInstructions = vectorInstructions
        self.peakGFLOPs = peakGFLOPs
    }
}

public struct BenchReport: Codable, Sendable {
    public var machine: MachineReport
    public var audioSeconds: Double
    public var repetitions: Int
    public var models: [ModelReport]

    public init(machine: MachineReport, audioSeconds: Double, repetitions: Int, models: [ModelReport]) {
        self.machine = machine
        self.audioSeconds = audioSeconds
        self.repetitions = repetitions
        self.models = models
    }
}
