import ArgumentParser
import Foundation
import NeuralFXAudio
import NeuralFXCore
import NeuralFXDatasets
import NeuralFXDevices
import NeuralFXEvaluation
import NeuralFXModelFiles

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a model against the reference device it imitates, per knob setting, and plot the two.",
        discussion: """
            Fresh dry material (synthesised with --seed, none of it in any dataset rendered with another seed) \
            goes through the device and the model at every setting of a knob grid; the table gives ESR, the \
            identity's and the best constant gain's ESR, STFT loss and loudness error per setting. With --clip \
            and --plots, the clip is rendered at the --knob setting and plotted: waveforms, the gain change over \
            time (la2a) or the spectra (overdrive), as SVG.
            """)

    @Option(help: "The reference device: \(DeviceKind.allCases.map(\.rawValue).joined(separator: " or ")).")
    var device: DeviceKind
    @Option(help: "Model file (.safetensors).") var model: String
    @Option(help: "Seconds of dry material per setting.") var seconds: Double = 30
    @Option(help: "Seed of the dry material.") var seed: UInt64 = 1001
    @Option(help: "Values per continuous knob in the grid.") var steps = 5
    @Option(help: "A knob's grid values, name=v1,v2,... (repeatable).") var grid: [String] = []
    @Option(help: "Write the table (Markdown) to this file as well.") var table: String?
    @Option(help: "A clip to plot (needs --plots).") var clip: String?
    @Option(help: "Folder for the SVG plots (made if missing).") var plots: String?
    @Option(help: "Knob setting for the plots, name=value (repeatable; others at their defaults).") var knob: [String] = []
    @Flag(help: "Replace existing table and plot files.") var force = false

    func validate() throws {
        if !(seconds > 0 && seconds <= 3600) { throw ValidationError("--seconds must be in (0, 3600]") }
        if steps < 1 || steps > 50 { throw ValidationError("--steps must be in 1...50") }
        if (clip == nil) != (plots == nil) { throw ValidationError("--clip and --plots go together") }
    }

    func run() throws {
        let loaded = try ModelFile.load(path: model)
        let comparison = try DeviceComparison(model: loaded, device: device)
        var knobGrid = KnobGrid(schema: device.knobs, steps: steps)
        for g in grid { try knobGrid.set(g) }
        let name = ((model as NSString).lastPathComponent as NSString).deletingPathExtension
        if let table { try refuseToReplace(table) }
        if let clip, let plots { try plot(comparison, clip: clip, folder: plots, name: name) }

        let material = DryMaterial(sampleRate: loaded.sampleRate).render(seconds: seconds, seed: seed)
        var scores: [SettingScore] = []
        for setting in knobGrid.settings {
            let s = comparison.score(material, setting: setting, description: knobGrid.describe(setting))
            print(String(format: "%@: ESR %.4f (identity %.4f, best gain %.4f)  STFT %.3f  loudness %+.2f LU",
                         s.description, s.esr, s.sums.identityESR, s.sums.fixedGainESR, s.stft, s.loudnessError)
                  + "; error/target by band: " + s.bands.summary)
            fflush(stdout)
            scores.append(s)
        }
        let markdown = ComparisonReport.markdown(scores, schema: device.knobs)
        print("")
        print(markdown, terminator: "")
        if let table { try write(markdown, to: table) }
        if device == .la2a { try burstAndRecovery(comparison, name: name) }
    }

    /// The release after a 2 s burst, at peak 0.5 and 1 in both modes.
    func burstAndRecovery(_ comparison: DeviceComparison, name: String) throws {
        print("")
        print(String(format: "burst and recovery: a tone at %.0f dBFS, %.0f s %.0f dB louder, then %.0f s at %.0f dBFS again; "
                     + "gain in %.0f ms windows", BurstRecovery.quietDecibels, BurstRecovery.burstSeconds, BurstRecovery.burstDecibels,
                     BurstRecovery.recoverySeconds, BurstRecovery.quietDecibels, 50.0))
        let grid = KnobGrid(schema: device.knobs, steps: 1)
        for mode in [0.0, 1.0] {
            for peak in [0.5, 1.0] {
                let test = BurstRecovery(comparison, setting: [mode, peak])
                let (error, at) = test.recoveryError
                let sideChain = test.sideChainRecoveryError.map {
                    String(format: "; its gain computer alone: within %.2f dB, worst %.2f s after", $0.decibels, $0.atSeconds)
                } ?? ""
                print(String(format: "  %@: the model's gain stays within %.2f dB of the device's over the %.0f s after the burst "
                             + "(worst %.2f s after it; the device's own gain comes back %.1f dB%@)",
                             grid.describe([mode, peak]), error, BurstRecovery.recoverySeconds, at, test.deviceRecovery, sideChain))
                if let plots {
                    let file = "\(name)-burst-recovery-\(mode == 0 ? "compress" : "limit")-peak\(peak == 1 ? "1" : "0.5").svg"
                    try refuseToReplace(plots + "/" + file)
                    try FileManager.default.createDirectory(atPath: plots, withIntermediateDirectories: true)
                    try write(ComparisonPlots.gainReduction(input: test.signal, device: test.deviceOutput, model: test.modelOutput,
                                                            sampleRate: comparison.model.sampleRate,
                                                            title: "\(name) vs la2a device: burst and recovery, \(grid.describe([mode, peak]))"),
                              to: plots + "/" + file)
                    print("wrote \(plots)/\(file)")
                }
            }
        }
    }

    func plot(_ comparison: DeviceComparison, clip: String, folder: String, name: String) throws {
        let reader = try AudioFileReader(path: clip)
        guard Double(reader.sampleRate) == comparison.model.sampleRate else {
            throw CommandFailure(description: "'\(clip)' is at \(reader.sampleRate) Hz; the model runs at \(Int(comparison.model.sampleRate)) Hz")
        }
        let channels = try reader.readAll()
        let input = channels.count == 1 ? channels[0] : (0..<channels[0].count).map { i in
            channels.reduce(0) { $0 + $1[i] } / Float(channels.count)
        }
        var setting = device.knobs.defaults
        for k in knob {
            let (i, v) = try device.knobs.setting(k)
            setting[i] = v
        }
        let deviceOut = comparison.deviceOutput(input, setting: setting)
        let modelOut = comparison.modelOutput(input, setting: setting)
        let rate = comparison.model.sampleRate
        let clipName = ((clip as NSString).lastPathComponent as NSString).deletingPathExtension
        let title = "\(name) vs \(device.rawValue) device, \(clipName), \(KnobGrid(schema: device.knobs, steps: 1).describe(setting))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var files: [(String, String)] = [
            ("\(name)-\(clipName)-waveform.svg",
             ComparisonPlots.waveform(device: deviceOut, model: modelOut, sampleRate: rate, seconds: Double(input.count) / rate, title: title)),
        ]
        switch device {
        case .la2a:
            files.append(("\(name)-\(clipName)-gain.svg",
                          ComparisonPlots.gainReduction(input: input, device: deviceOut, model: modelOut, sampleRate: rate, title: title)))
        case .overdrive:
            files.append(("\(name)-\(clipName)-spectrum.svg",
                          ComparisonPlots.spectrum(device: deviceOut, model: modelOut, sampleRate: rate, title: title)))
        }
        for (file, _) in files { try refuseToReplace(folder + "/" + file) }
        for (file, svg) in files {
            try write(svg, to: folder + "/" + file)
            print("wrote \(folder)/\(file)")
        }
    }

    func refuseToReplace(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) && !force {
            throw CommandFailure(description: "'\(path)' already exists; pass --force to replace it")
        }
    }

    func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw CommandFailure(description: "cannot write '\(path)'")
        }
    }
}
