import Foundation

/// When a training session ends: after a total number of steps, or of
/// training seconds (counted across resumed sessions), whichever first.
public struct TrainingLimits: Sendable {
    public var steps: Int?
    public var seconds: Double?
    public init(steps: Int? = nil, seconds: Double? = nil) {
        self.steps = steps
        self.seconds = seconds
    }
}

extension Trainer {
    /// Trains until a limit or `shouldStop()` (Ctrl-C), validating every
    /// `validationInterval` steps, checkpointing every `checkpointSeconds`
    /// and when stopping. `progress` receives the live status line.
    /// Returns why it stopped. Across processes, rank 0's clock and
    /// `shouldStop` decide for every rank; only rank 0 validates and
    /// should be given a `checkpointPath`.
    @discardableResult
    public func run(limits: TrainingLimits, checkpointPath: String?, checkpointSeconds: Double = 300,
                    shouldStop: () -> Bool = { false }, progress: (String) -> Void = { _ in }) throws -> String {
        let clock = ContinuousClock()
        let started = clock.now
        func elapsed() -> Double { let d = clock.now - started; return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        var lastCheckpoint = 0.0
        var windowStart = 0.0, windowSteps = 0
        var samplesPerSecond = 0.0
        var lastTrainLoss = Double.nan
        let samplesPerStep = Double(settings.batchSize * settings.chunkLength)
        var reason = "finished"
        while true {
            var stop: String?
            if let maxSteps = limits.steps, step >= maxSteps {
                stop = "reached \(maxSteps) steps"
            } else if let maxSeconds = limits.seconds, previousSeconds + elapsed() >= maxSeconds {
                stop = "reached \(formatDuration(maxSeconds)) of training"
            } else if shouldStop() {
                stop = "interrupted"
            }
            if let exchange = network.exchange, exchange.size > 1 {
                var decision: [UInt32] = [stop == nil ? 0 : 1, adam.learningRate.bitPattern]
                decision.withUnsafeMutableBytes { exchange.broadcast($0) }
                if exchange.rank != 0 {
                    stop = decision[0] == 0 ? nil : "stopped with rank 0"
                    adam.learningRate = Float(bitPattern: decision[1])
                }
            }
            if let stop { reason = stop; break }
            lastTrainLoss = try trainStep()
            windowSteps += 1
            let now = elapsed()
            if now - windowStart >= 2 {
                samplesPerSecond = Double(windowSteps) * samplesPerStep / (now - windowStart)
                windowStart = now
                windowSteps = 0
            }
            if isLeader && step % settings.validationInterval == 0 {
                validate(seconds: now, samplesPerSecond: samplesPerSecond)
            }
            progress(statusLine(trainLoss: lastTrainLoss, samplesPerSecond: samplesPerSecond, elapsed: now, limits: limits))
            if let path = checkpointPath, now - lastCheckpoint >= checkpointSeconds {
                try checkpoint(elapsedSeconds: now).write(to: path)
                lastCheckpoint = now
                lastCheckpointStep = step
            }
        }
        if let path = checkpointPath {
            try checkpoint(elapsedSeconds: elapsed()).write(to: path)
            lastCheckpointStep = step
        }
        return reason
    }

    func statusLine(trainLoss: Double, samplesPerSecond: Double, elapsed: Double, limits: TrainingLimits) -> String {
        var left = Double.infinity
        if let s = limits.seconds { left = s - previousSeconds - elapsed }
        if let n = limits.steps, samplesPerSecond > 0 {
            let perStep = Double(settings.batchSize * settings.chunkLength) / samplesPerSecond
            left = min(left, Double(n - step) * perStep)
        }
        let validation = history.last.map { String(format: "%.4g", $0.validationLoss) } ?? "-"
        return String(format: "epoch %.2f  step %d  train %.4g  val %@  %.0f samples/s  %@ left",
                      epoch, step, trainLoss, validation, samplesPerSecond, formatDuration(left))
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = max(Int(seconds.rounded()), 0)
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
