import ArgumentParser
import NeuralFXModelFiles
import Foundation
import NeuralFXAudio
import NeuralFXCore
import NeuralFXTools

struct FXRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxrender",
        abstract: "Render an audio file through a neural effect model.",
        discussion: """
            Models and presets named without a path are looked up in $NEURALFX_PATH, \
            $XDG_DATA_HOME/neuralfx, the installed share/neuralfx and the source tree. \
            Without --model the bundled '\(ModelCatalog.defaultModelName)' compressor is used. \
            Files at another sample rate than the model's are resampled (libsamplerate's medium sinc, as fxhost and the LV2 plugin do) \
            to it and back. NaN/Inf samples in the input are rendered as silence and counted in the summary.
            """)

    @Argument(help: "Input audio file (any format libsndfile reads).")
    var input: String?

    @Argument(help: "Output audio file; its extension picks the format (.wav .flac .aiff .ogg .mp3 ...).")
    var output: String?

    @Option(help: "Model file or name.")
    var model: String?

    @Option(name: .customLong("knob"), help: ArgumentHelp("Knob setting, repeatable.", valueName: "name=value"))
    var knobs: [String] = []

    @Option(help: "Preset file or name (JSON). It picks the model unless --model is given; --knob settings override its knobs.")
    var preset: String?

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @Option(help: "Output sample format: \(AudioSampleFormat.byName.keys.sorted().joined(separator: "|")) (default: keep the input's).")
    var subtype: String?

    @Option(help: ArgumentHelp(NAMOutputLevel.optionHelp, valueName: "raw|normalized"))
    var outputLevel: String = "raw"

    @Flag(help: "Print the model's knobs, sample rate and provenance, and exit.")
    var info = false

    func run() throws {
        let catalog = ModelCatalog.standard()
        var presetFile: (preset: Preset, path: String)?
        if let preset {
            let path = try catalog.resolve(preset, kind: .preset)
            presetFile = (try Preset.load(path: path), path)
        }
        if info {
            print(describe(try loadModel(model ?? presetFile?.preset.model, catalog: catalog)), terminator: "")
            return
        }
        guard let input, let output else { throw UsageError("give an input and an output file (or --info)") }
        var sampleFormat: AudioSampleFormat?
        if let subtype {
            guard let format = AudioSampleFormat.named(subtype) else {
                throw UsageError("unknown subtype '\(subtype)'; valid: \(AudioSampleFormat.byName.keys.sorted().joined(separator: ", "))")
            }
            sampleFormat = format
        }
        guard let level = NAMOutputLevel(name: outputLevel) else {
            throw UsageError("--output-level must be raw or normalized, not '\(outputLevel)'")
        }
        let files = try RenderFiles(input: input, output: output, sampleFormat: sampleFormat, force: force)
        let (model, _) = try loadModel(model ?? presetFile?.preset.model, catalog: catalog)
        var settings = EffectSettings(knobs: model.knobs)
        if let presetFile { try settings.apply(presetFile.preset, source: presetFile.path) }
        try settings.apply(arguments: knobs)
        settings.outputGainDB += level.gainDecibels(for: model)

        removeTemporaryOutputOnInterrupt()
        let bar = isatty(STDERR_FILENO) != 0 ? ProgressBar() : nil
        let summary = try OfflineRenderer(model: model, settings: settings).render(files) { bar?.show($0.fraction) }
        bar?.clear()
        print(summary.line)
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The model's knobs, sample rate and everything its file says about it.
func describe(_ loaded: (model: EffectModel, path: String)) -> String {
    let m = loaded.model
    var text = "model: \(m.name)\nfile: \(loaded.path)\n"
    if !m.info.contains(where: { $0.key == "architecture" }) { text += "architecture: \(m.blueprint.architectureName)\n" }
    text += "sample rate: \(Int(m.sampleRate)) Hz\n"
    if m.knobs.knobs.isEmpty { text += "knobs: none\n" } else { text += "knobs:\n" }
    for k in m.knobs.knobs {
        let unit = k.unit.isEmpty ? "" : " \(k.unit)"
        text += "  \(k.name): \(k.label), \(k.isSwitch ? "one of " : "")\(k.rangeDescription)\(k.isSwitch ? "" : unit), default \(k.describe(k.defaultValue))\n"
    }
    for (key, value) in m.info { text += "\(key): \(value)\n" }
    return text
}

/// A one-line bar on stderr, redrawn only when the percentage changes.
final class ProgressBar {
    private var shown = -1

    func show(_ fraction: Double) {
        let percent = Int(fraction * 100)
        guard percent != shown else { return }
        shown = percent
        let width = 40, filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent)%".utf8))
    }

    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
