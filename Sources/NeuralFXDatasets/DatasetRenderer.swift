import Foundation
import NeuralFXCore
import NeuralFXDevices

/// Writes one mono 32-bit float WAV file. The dataset logic only needs this;
/// the command supplies the libsndfile-backed writer of `NeuralFXAudio`.
public protocol MonoFloatWAVWriting {
    func writeMonoFloatWAV(_ samples: [Float], sampleRate: Int, to path: String) throws
}

/// Where the time of a render went, to check it against real time. Times
/// are CPU time of the rendering thread (it renders on one core), so other
/// work on the machine does not count against the device.
public struct DatasetRenderReport: Sendable {
    public var pairs = 0
    public var audioSeconds = 0.0
    public var synthesisSeconds = 0.0
    public var deviceSeconds = 0.0
    public var writingSeconds = 0.0
    public var totalSeconds = 0.0
    /// Wall-clock duration of the whole render.
    public var wallSeconds = 0.0

    /// Seconds of audio the device renders per second of processing.
    public var deviceSpeed: Double { audioSeconds / max(deviceSeconds, 1e-9) }
    /// The same for the whole render: synthesis, device and files.
    public var overallSpeed: Double { audioSeconds / max(totalSeconds, 1e-9) }
}

/// Renders a planned dataset into a folder: for every pair the dry input and
/// the device's output, then the manifest. Output of the device is shifted
/// back by its latency so input and target line up like an analog unit's.
///
/// The folder appears only when complete: files go to `<out>.partial` first,
/// which is renamed at the end (and removed on failure). An existing
/// non-empty folder is refused, never overwritten.
public struct DatasetRenderer {
    public let plan: DatasetPlan
    public let material: DryMaterial
    public let writer: any MonoFloatWAVWriting
    /// Names of `material`'s clips, recorded in the manifest.
    public let clipNames: [String]

    public init(plan: DatasetPlan, material: DryMaterial, clipNames: [String] = [], writer: any MonoFloatWAVWriting) {
        self.plan = plan
        self.material = material
        self.clipNames = clipNames
        self.writer = writer
    }

    /// The input and target of one pair, without touching files.
    public func renderPair(_ pair: PlannedPair) -> (input: [Float], target: [Float]) {
        var report = DatasetRenderReport()
        return renderPair(pair, device: plan.spec.device.make(sampleRate: plan.spec.sampleRate), report: &report)
    }

    private func renderPair(_ pair: PlannedPair, device: any ReferenceDevice,
                            report: inout DatasetRenderReport) -> (input: [Float], target: [Float]) {
        var input: [Float] = []
        report.synthesisSeconds += threadCPUSeconds {
            input = material.render(seconds: Double(pair.frames) / plan.spec.sampleRate, seed: pair.inputSeed)
        }
        var target: [Float] = []
        report.deviceSeconds += threadCPUSeconds { target = process(input, pair: pair, device: device) }
        report.audioSeconds += Double(pair.frames) / plan.spec.sampleRate
        return (input, target)
    }

    private func process(_ input: [Float], pair: PlannedPair, device: any ReferenceDevice) -> [Float] {
        for (i, v) in pair.knobValues.enumerated() { device.setKnob(i, to: v) }
        return device.alignedOutput(input)
    }

    @discardableResult
    public func render(to folder: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> DatasetRenderReport {
        let files = FileManager.default
        let out = URL(fileURLWithPath: folder).standardizedFileURL
        var isDirectory: ObjCBool = false
        var replaceEmptyFolder = false
        if files.fileExists(atPath: out.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DatasetError.outputIsAFile(folder) }
            let contents = (try? files.contentsOfDirectory(atPath: out.path)) ?? []
            guard contents.isEmpty else { throw DatasetError.outputNotEmpty(folder) }
            replaceEmptyFolder = true
        }
        let staging = URL(fileURLWithPath: out.path + ".partial")
        if files.fileExists(atPath: staging.path) { throw DatasetError.stagingFolderExists(staging.path) }
        do {
            try files.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.io("cannot create '\(staging.path)': \(error.localizedDescription)")
        }

        do {
            let clock = ContinuousClock()
            var report = DatasetRenderReport()
            let started = clock.now
            let startedCPU = threadCPUSeconds()
            let device = plan.spec.device.make(sampleRate: plan.spec.sampleRate)
            let rate = Int(plan.spec.sampleRate)
            for (n, pair) in plan.pairs.enumerated() {
                let (input, target) = renderPair(pair, device: device, report: &report)
                let paths = plan.files(for: pair)
                try report.writingSeconds += threadCPUSeconds {
                    for (samples, relative) in [(input, paths.input), (target, paths.target)] {
                        let url = staging.appendingPathComponent(relative)
                        try files.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                        try writer.writeMonoFloatWAV(samples, sampleRate: rate, to: url.path)
                    }
                }
                report.pairs += 1
                progress(n + 1, plan.pairs.count)
            }
            let manifest = try DatasetManifest(plan: plan, dryClips: clipNames).encoded()
            try manifest.write(to: staging.appendingPathComponent(DatasetManifest.fileName))
            if replaceEmptyFolder { try files.removeItem(at: out) }
            try files.moveItem(at: staging, to: out)
            report.totalSeconds = threadCPUSeconds() - startedCPU
            report.wallSeconds = seconds(clock.now - started)
            return report
        } catch {
            try? files.removeItem(at: staging)
            if let e = error as? DatasetError { throw e }
            throw DatasetError.io("writing the dataset failed: \(error)")
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// CPU time consumed by the calling thread so far.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// CPU time the calling thread spends in `body`.
func threadCPUSeconds(_ body: () throws -> Void) rethrows -> Double {
    let start = threadCPUSeconds()
    try body()
    return threadCPUSeconds() - start
}
