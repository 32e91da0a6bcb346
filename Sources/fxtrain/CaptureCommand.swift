import ArgumentParser
import Foundation
import NeuralFXCapture
import NeuralFXDatasets
import NeuralFXHost

/// `fxtrain capture`: a guided reamping session. Plays the capture signal
/// into the gear at every knob setting, checks each return, keeps each
/// setting as an aligned pair of the dataset folder, and trains on request.
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture your own gear: play a capture signal through it at each knob setting and record the return into a dataset folder.",
        discussion: """
            Connect SEND to the gear's input and the gear's output to RETURN. For each setting fxtrain says what to set \
            ("set PEAK to 0.25, MODE to limit, then press Enter"), or a plan file sets it (--plan). Each setting's \
            signal starts with a quiet level ramp, clicks and a sweep that measure the round trip to the sample and \
            check the return (silence, clipping, low level, polarity, clock drift), then program material. Every \
            setting is kept atomically; run the same command again to capture the settings still missing. \
            See docs/capture.md.
            """)

    @Flag(help: "Play and record through JACK.") var jack = false
    @Flag(help: "Play and record through an ALSA device (--device).") var alsa = false
    @Option(help: "JACK server name (default: the default server).") var server: String?
    @Option(help: "JACK port to send to, the gear's input (default: the first physical playback port).") var send: String?
    @Option(name: .customLong("return"), help: "JACK port to record from, the gear's output (default: the first physical capture port).")
    var returnPort: String?
    @Option(help: "ALSA device, e.g. hw:1.") var device: String?
    @Option(help: "ALSA sample rate.") var rate = 44100
    @Option(help: "ALSA period in frames.") var period = 256
    @Option(help: "Knob settings to capture as a grid: NAME=V1,V2,... per knob, numbers or switch positions, e.g. \"peak=0,0.5,1 mode=compress,limit\".")
    var knobs: String?
    @Option(help: "Plan file (JSON) listing the knobs and settings, and a command that sets the gear (then there are no prompts; docs/capture.md).")
    var plan: String?
    @Option(help: "The dataset folder to write (or to resume).") var out: String
    @Option(help: "Seconds of signal per knob setting.") var seconds = 180.0
    @Option(help: "Peak level of the signal sent, dBFS (at most -1): nothing sent goes above it.") var level = -12.0
    @Option(name: .customLong("max-latency"), help: "Longest round trip searched, in samples.") var maxLatency = 8192
    @Option(help: "Folder of recordings mixed into the program material (default: examples, when it exists).") var examples: String?
    @Flag(name: .customLong("no-examples"), help: "Synthesized program material only.") var noExamples = false
    @Option(help: "Seed of the program material.") var seed: UInt64 = 1
    @Option(help: "Settings to capture again (1-based, comma-separated), even if kept before.") var redo: String?
    @Flag(help: "Train a model once every setting is captured (fxtrain train, with --minutes, --arch, --threads).") var train = false
    @Option(help: "With --train: minutes of training.") var minutes: Double?
    @Option(help: "With --train: the model file (default: DIR/model.safetensors; plots and figures beside it).") var model: String?
    @Option(help: "With --train: architecture.") var arch = "utcn-100-c"
    @Option(help: "With --train: worker threads.") var threads = 2
    @Flag(help: "With --train: replace an existing model and its checkpoint.") var overwrite = false
    @Flag(help: "Print a JSON summary at the end: settings captured, xruns, heap allocations in the audio callbacks.") var stats = false

    func validate() throws {
        if jack == alsa { throw ValidationError("give --jack or --alsa (one of them)") }
        if alsa && device == nil { throw ValidationError("--alsa needs --device (e.g. hw:1; aplay -L lists them)") }
        if !alsa && device != nil { throw ValidationError("--device is for --alsa") }
        if jack == false && (send != nil || returnPort != nil || server != nil) { throw ValidationError("--send, --return and --server are for --jack") }
        if (knobs == nil) == (plan == nil) { throw ValidationError("give the settings with --knobs or --plan (one of them)") }
        if train && minutes == nil { throw ValidationError("--train needs --minutes") }
        if let m = minutes, !(m > 0 && m.isFinite) { throw ValidationError("--minutes must be positive") }
        if maxLatency < 1 || maxLatency > 1 << 20 { throw ValidationError("--max-latency must be within 1...1048576 samples") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if noExamples && examples != nil { throw ValidationError("--examples and --no-examples exclude each other") }
    }

    /// Every failure is one line on stderr and exit status 1.
    func run() throws {
        let message: String
        do {
            try capture()
            return
        } catch let e as CaptureError {
            message = e.description
        } catch let e as HostError {
            message = e.description
        } catch let e as CommandFailure {
            message = e.description
        }
        FileHandle.standardError.write(Data("fxtrain: error: \(message)\n".utf8))
        throw ExitCode(1)
    }

    func capture() throws {
        let plan = try self.plan.map { try KnobPlan.load(path: $0) } ?? KnobPlan.parseGrid(knobs!)
        // A plan with a command drives the gear; without one (a hand-picked
        // list of settings, with labels) the user is asked as with --knobs.
        let interactive = plan.command == nil
        // The rate comes from the interface (JACK's server) or the option (ALSA).
        let capacityFor = { (rate: Int) in Int((seconds * Double(rate)).rounded()) + 2 * rate + maxLatency }
        let device: PlayRecordDevice
        var jackRate = 0
        if jack {
            // The server's rate decides the buffers' size: ask it first.
            let probe = try JackClient(name: "fxcapture-probe", server: server)
            jackRate = probe.sampleRate
            probe.close()
            device = try JackPlayRecord(server: server, send: send, return: returnPort, capacity: capacityFor(jackRate))
        } else {
            device = try AlsaPlayRecord(device: self.device!, rate: rate, period: period, capacity: capacityFor(rate))
        }
        let sampleRate = device.sampleRate
        let clips = try loadClips(sampleRate: Double(sampleRate))
        let spec = try CaptureSignalSpec(sampleRate: sampleRate, seconds: seconds, levelDBFS: level, seed: seed, clips: clips.map(\.name))
        var session = try CaptureSession.open(directory: out, plan: plan, signal: spec, interface: device.route)
        for note in session.notes { say("note: \(note)") }
        var queue = session.remaining
        if let redo {
            for item in redo.split(separator: ",") {
                guard let n = Int(item.trimmingCharacters(in: .whitespaces)), (1...plan.settings.count).contains(n) else {
                    throw CaptureError("--redo: '\(item)' is not a setting number within 1...\(plan.settings.count)")
                }
                if !queue.contains(n - 1) { queue.append(n - 1) }
            }
            queue.sort()
        }
        let total = plan.settings.count
        say("\(device.route); \(total) setting\(total == 1 ? "" : "s") of \(format(seconds)) s at \(sampleRate) Hz, level \(format(level)) dBFS, into \(out)")
        if session.captured.count > 0 {
            say("resuming: \(session.captured.count) of \(total) settings already captured; \(queue.count) to go")
        }
        let terminal = isatty(STDOUT_FILENO) == 1
        var position = 0
        var lastKept: Int?
        // A setting that failed its checks is played again without asking for the knobs again.
        var redoing = false
        var xruns = 0, allocations = 0
        while position < queue.count {
            let index = queue[position]
            let label = "setting \(index + 1)/\(total)"
            if interactive && !redoing {
                say("\(label): set \(plan.describe(setting: index)), then press Enter"
                    + " (r: redo the previous setting, q: stop here)")
                guard let answer = readLine() else {
                    throw CaptureError("no answer on standard input at \(label); \(keptLine(session)) run the same command again to capture the rest")
                }
                let word = answer.trimmingCharacters(in: .whitespaces).lowercased()
                if word == "q" {
                    say("stopped at \(label); \(keptLine(session)) run the same command again to capture the rest")
                    throw ExitCode(1)
                }
                if word == "r" {
                    if let previous = lastKept {
                        queue.insert(previous, at: position)
                        lastKept = nil
                    } else {
                        say("nothing captured in this run to redo (--redo N redoes any setting)")
                    }
                    continue
                }
            } else if let command = plan.command {
                try runPlanCommand(command, environment: plan.environment(setting: index), label: label)
                if plan.settleSeconds > 0 { usleep(UInt32(plan.settleSeconds * 1_000_000)) }
            }
            say("\(label): \(plan.shortDescription(setting: index)): playing \(format(seconds)) s")
            let signal = CaptureSignal.make(spec, setting: index, clips: clips.map(\.samples))
            let recordFrames = signal.samples.count + maxLatency
            let stop = StopSignal()
            installInterruptHandler()
            var meter = ProgressDisplay(terminal: terminal, label: label)
            let result: PlayRecordResult?
            do {
                result = try device.playAndRecord(signal.samples, recordFrames: recordFrames, ceiling: signal.ceiling, stop: stop) { p in
                    if interruptRequested != 0 { stop.raise("interrupted") }
                    meter.show(p)
                }
            } catch let e as HostError {
                meter.finish()
                throw CaptureError("\(e.description) at \(label): it is not kept; \(keptLine(session)) reconnect and run the same command again to capture the rest")
            }
            signal_default()
            meter.finish()
            guard let result else {
                say("interrupted at \(label): it is not kept; \(keptLine(session)) run the same command again to capture the rest")
                throw ExitCode(130)
            }
            var calibration = Calibration.analyse(sent: signal.samples, returned: result.recording, layout: signal.layout,
                                                  sampleRate: sampleRate, maxLatency: maxLatency,
                                                  expectedLatency: session.captured.first { $0.setting != index }?.calibration.latency)
            xruns += result.xruns
            allocations += result.callbackAllocations
            redoing = false
            if result.xruns > 0 {
                calibration.problems.append("\(result.xruns) xrun\(result.xruns == 1 ? "" : "s") while recording: audio was dropped; close other audio programs or raise the period, and redo this setting")
            }
            report(calibration, sampleRate: sampleRate, buffers: device.bufferLatency)
            if !calibration.problems.isEmpty {
                for p in calibration.problems { FileHandle.standardError.write(Data("problem: \(p)\n".utf8)) }
                if interactive {
                    say("\(label) is not kept. Fix it, then press Enter to redo it (q: stop here)")
                    guard let answer = readLine(), answer.trimmingCharacters(in: .whitespaces).lowercased() != "q" else {
                        throw CaptureError("\(label) not kept; \(keptLine(session)) run the same command again to capture the rest")
                    }
                    redoing = true
                    continue
                }
                throw CaptureError("\(label) failed its checks and is not kept; \(keptLine(session)) fix it and run the same command again to capture the rest")
            }
            let target = Calibration.aligned(result.recording, latency: calibration.latency, inverted: calibration.polarityInverted,
                                             count: signal.samples.count)
            try session.record(setting: index, input: signal.samples, target: target, calibration: calibration)
            say("\(label) kept (\(session.captured.count) of \(total) captured)")
            lastKept = index
            position += 1
        }
        say("captured \(session.captured.count) of \(total) settings into \(out)"
            + (plan.heldOut.isEmpty ? "" : "; held out for testing: setting \(plan.heldOut.sorted().map { "\($0 + 1)" }.joined(separator: ", "))"))
        if stats {
            say("{\"settings_captured\": \(session.captured.count), \"settings\": \(total), \"xruns\": \(xruns), \"callback_allocations\": \(allocations)}")
        }
        if train {
            guard session.remaining.isEmpty else {
                throw CaptureError("not training: \(session.remaining.count) settings are still missing")
            }
            let modelPath = model ?? (out as NSString).appendingPathComponent("model.safetensors")
            say("training \(arch) for \(format(minutes!)) min into \(modelPath)")
            // The training command itself, as `fxtrain train` runs it: the
            // pairs are aligned already, so no latency is searched.
            var arguments = [out, "--out", modelPath, "--minutes", "\(minutes!)", "--arch", arch, "--threads", "\(threads)",
                             "--max-latency", "0", "--description", "captured with fxtrain capture (\(device.route)) into \(out)"]
            if overwrite { arguments.append("--overwrite") }
            let command = try TrainCommand.parse(arguments)
            try command.run()
        } else if session.remaining.isEmpty {
            say("next: fxtrain train \(out) --arch utcn-100-c --minutes 30 --out my-gear.safetensors")
        }
    }

    private func keptLine(_ session: CaptureSession) -> String {
        session.captured.isEmpty ? "nothing was captured before it;"
            : "the \(session.captured.count) setting\(session.captured.count == 1 ? "" : "s") captured before \(session.captured.count == 1 ? "is" : "are") kept in \(out);"
    }

    private func report(_ c: CalibrationResult, sampleRate: Int, buffers: Int?) {
        if c.returnPeakDBFS < Calibration.silentDBFS {
            say("  return: silent")
            return
        }
        let ms = Double(c.latency) / Double(sampleRate) * 1000
        // What the audio system accounts for, when it says: the rest is converters, cables and the gear.
        let split = buffers.map { $0 > 0 && $0 <= c.latency ? " (\($0) of them the audio system's buffers)" : "" } ?? ""
        say(String(format: "  latency %d samples (%.2f ms)%@, polarity %@, return peak %.1f dBFS, RMS %.1f dBFS, drift %d samples (%.0f ppm)",
                   c.latency, ms, split, c.polarityInverted ? "inverted" : "normal", c.returnPeakDBFS, c.returnRMSDBFS, c.driftSamples, c.driftPPM))
        for note in c.notes { say("  note: \(note)") }
    }

    private func runPlanCommand(_ command: String, environment: [String: String], label: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        do { try process.run() } catch { throw CaptureError("cannot run the plan's command: \(error.localizedDescription)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CaptureError("the plan's command failed at \(label) (exit \(process.terminationStatus)): \(command)")
        }
    }

    private func loadClips(sampleRate: Double) throws -> [(name: String, samples: [Float])] {
        if noExamples { return [] }
        let folder = examples ?? "examples"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            if examples != nil { throw CaptureError("examples folder '\(folder)' does not exist") }
            return []
        }
        do { return try ExampleClips.load(folder: folder, sampleRate: sampleRate) } catch {
            throw CaptureError("reading example clips: \(error)")
        }
    }

    private func say(_ line: String) {
        print(line)
        fflush(stdout)
    }

    private func format(_ x: Double) -> String { String(format: "%g", x) }
}

private func signal_default() { signal(SIGINT, SIG_DFL); interruptRequested = 0 }

/// The progress bar and meters on a terminal (rewritten in place, ten times
/// a second); plain lines at each quarter otherwise.
struct ProgressDisplay {
    let terminal: Bool
    let label: String
    var lastQuarter = 0
    var lastDraw = Date.distantPast
    var sendHold: Float = 0, returnHold: Float = 0

    init(terminal: Bool, label: String) {
        self.terminal = terminal
        self.label = label
    }

    mutating func show(_ p: PlayRecordProgress) {
        let fraction = p.total > 0 ? Double(p.done) / Double(p.total) : 0
        sendHold = max(sendHold * 0.7, p.sendPeak)
        returnHold = max(returnHold * 0.7, p.returnPeak)
        if terminal {
            guard Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = Date()
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = String(format: "\r%@ [%@] %3d%%  out %@  in %@", label, bar, Int(fraction * 100),
                              Self.meter(sendHold), Self.meter(returnHold))
            FileHandle.standardOutput.write(Data((line + "\u{1B}[K").utf8))
        } else {
            let quarter = Int(fraction * 4)
            if quarter > lastQuarter && quarter < 4 {
                lastQuarter = quarter
                print("\(label): \(quarter * 25)% recorded")
                fflush(stdout)
            }
        }
    }

    func finish() {
        if terminal { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// A 12-step meter over -48...0 dBFS with the level in numbers; "CLIP" at full scale.
    static func meter(_ peak: Float) -> String {
        let db = peak > 1e-6 ? 20 * log10(Double(peak)) : -120
        let steps = max(0, min(12, Int(((db + 48) / 4).rounded(.down))))
        let bar = String(repeating: "|", count: steps) + String(repeating: " ", count: 12 - steps)
        return peak >= 0.999 ? "[\(bar)] CLIP " : String(format: "[%@] %5.1f", bar, max(db, -99.9))
    }
}
