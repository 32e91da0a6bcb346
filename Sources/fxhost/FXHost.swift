import ArgumentParser
import NeuralFXModelFiles
import Dispatch
import Glibc
import NeuralFXHost

@main
struct FXHost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fxhost",
        abstract: "Play audio live through a neural effect model, via JACK or ALSA.")

    @Flag(help: "Run as a JACK client (the default).") var jack = false
    @Flag(help: "Run full duplex on an ALSA device.") var alsa = false

    @Option(help: "Model name or file (default: the bundled compressor, or the preset's model).") var model: String?
    @Option(help: "Preset name or file: knob values, gains, and its model unless --model is given.") var preset: String?
    @Option(name: .customLong("knob"), help: "Initial knob setting NAME=VALUE (repeatable).") var knobs: [String] = []
    @Option(help: "Audio channels: 1, or 2 for stereo as two instances.") var channels = 1
    @Option(help: "Input gain in dB (overrides the preset's).") var inputGain: Double?
    @Option(help: "Output gain in dB (overrides the preset's).") var outputGain: Double?
    @Option(help: ArgumentHelp(NAMOutputLevel.optionHelp, valueName: "raw|normalized")) var outputLevel: String = "raw"
    @Flag(help: "High-pass the output to remove DC.") var dcBlock = false
    @Flag(help: "Start bypassed.") var bypass = false

    @Option(help: "JACK client name.") var name = "fxhost"
    @Option(help: "JACK server name (default: the default server).") var server: String?
    @Option(parsing: .upToNextOption, help: "JACK ports to feed our inputs, in channel order.") var inputs: [String] = []
    @Option(parsing: .upToNextOption, help: "JACK ports our outputs feed, in channel order.") var outputs: [String] = []
    @Option(help: "JACK port to connect (repeatable): outputs feed us, inputs are fed by us, MIDI outputs drive the knobs.")
    var connect: [String] = []
    @Flag(help: "Without --inputs/--outputs/--connect, do not connect to the system's physical ports.")
    var noAutoConnect = false
    @Flag(help: "List JACK ports and exit.") var listPorts = false
    @Flag(help: "Do not open a JACK MIDI input.") var noMidi = false
    @Option(help: "MIDI controllers to knobs, e.g. cc7=peak,cc1=drive.") var midiMap: String?
    @Option(help: "Presets chosen by MIDI program change 0, 1, ... (comma-separated).") var programs: String?

    @Option(help: "ALSA device.") var device = "default"
    @Option(help: "ALSA period in frames.") var period = 64
    @Option(help: "ALSA periods per buffer.") var periods = 2
    @Option(help: "ALSA sample rate (default: the model's).") var rate: Int?
    @Flag(help: "List ALSA devices and exit.") var listDevices = false

    @Flag(help: "No terminal UI: read commands from standard input, one per line.") var noUi = false
    @Option(help: "Stop after this many seconds of audio.") var duration: Double?
    @Flag(help: "Print run statistics as JSON at exit.") var stats = false

    mutating func run() throws {
        do {
            try runHost()
        } catch let e as HostError {
            fail(e.description)
        }
    }

    func runHost() throws {
        if listDevices { print(try AlsaDevices.list().joined(separator: "\n")); return }
        if listPorts {
            let client = try JackClient(name: name, server: server)
            print(client.ports().joined(separator: "\n"))
            return
        }
        guard channels == 1 || channels == 2 else { throw HostError.badArgument("--channels must be 1 or 2") }
        if jack && alsa { throw HostError.badArgument("choose one of --jack and --alsa") }
        let stop = StopSignal()
        watchSignals(stop)
        // Page faults on the audio thread cost deadlines; lock memory where
        // the system allows it (fine to go on without).
        mlockall(MCL_CURRENT | MCL_FUTURE)
        var settings = HostSession.Settings()
        settings.channels = channels
        settings.dcBlocker = dcBlock
        settings.bypassed = bypass
        if let midiMap { settings.midiMap = try MidiMap(parsing: midiMap) }

        var (effect, values) = try ModelSource.configuration(model: model, preset: preset, knobs: knobs)
        for (gain, db) in [(inputGain, "--input-gain"), (outputGain, "--output-gain")] {
            if let gain, !(gain.isFinite && abs(gain) <= 60) { throw HostError.badArgument("\(db) must be within ±60 dB") }
        }
        if let inputGain { values.inputGainDB = inputGain }
        if let outputGain { values.outputGainDB = outputGain }
        guard let level = NAMOutputLevel(name: outputLevel) else {
            throw HostError.badArgument("--output-level must be raw or normalized, not '\(outputLevel)'")
        }
        values.outputGainDB += level.gainDecibels(for: effect)
        try HostSession.check(settings.midiMap, for: effect)
        if alsa {
            let streamRate = rate ?? Int(effect.sampleRate)
            settings.maxBlockSize = period
            let session = try HostSession(model: effect, effect: values, sampleRate: Double(streamRate), settings: settings,
                                          stop: stop)
            configure(session)
            let duplex = try AlsaDuplex(device: device, rate: streamRate, channels: channels, period: period,
                                        periods: periods, processor: session.processor, stop: stop,
                                        frameLimit: duration.map { Int($0 * Double(streamRate)) })
            try duplex.start()
            ControlLoop.run(session, surface: surface(), sampleRate: Double(streamRate), seconds: nil)
            stop.raise()
            duplex.join()
            try finish(session, stop)
            return
        }

        let client = try JackClient(name: name, server: server)
        defer { client.close() }
        settings.maxBlockSize = client.bufferSize
        let session = try HostSession(model: effect, effect: values, sampleRate: Double(client.sampleRate),
                                      settings: settings, stop: stop)
        configure(session)
        let host = try JackHost(client: client, processor: session.processor, midi: !noMidi, stop: stop)
        host.setAddedLatency(frames: session.latencyFrames)
        session.onLatencyChange = { host.setAddedLatency(frames: $0) }
        let plan = try connectionPlan(client)
        try host.activate()
        try host.connect(inputsFrom: plan.sources, outputsTo: plan.destinations, midiFrom: plan.midi)
        ControlLoop.run(session, surface: surface(), sampleRate: Double(client.sampleRate), seconds: duration)
        client.close()
        try finish(session, stop)
    }

    func configure(_ session: HostSession) {
        if let programs { session.programs = programs.split(separator: ",").map(String.init) }
    }

    func surface() -> ControlSurface {
        if noUi || isatty(0) == 0 { return ScriptControl() }
        return TerminalUI()
    }

    /// Sorts `--inputs/--outputs/--connect` into our inputs' sources, our
    /// outputs' destinations and the MIDI source.
    func connectionPlan(_ client: JackClient) throws -> (sources: [String], destinations: [String], midi: String?) {
        if inputs.isEmpty && outputs.isEmpty && connect.isEmpty {
            guard !noAutoConnect else { return ([], [], nil) }
            // A guitarist's default: system capture in, every speaker out
            // (a mono effect feeds both sides).
            let capture = client.physicalPorts(inputs: false), playback = client.physicalPorts(inputs: true)
            let destinations = channels == 1 ? Array(playback.prefix(2)) : Array(playback.prefix(channels))
            return (Array(capture.prefix(channels)), destinations, nil)
        }
        var sources = inputs, destinations = outputs, midi: String?
        let outs = Set(client.ports(inputs: false)), midiOuts = Set(client.ports(midi: true, inputs: false))
        let ins = Set(client.ports(inputs: true))
        for port in connect {
            if midiOuts.contains(port) { midi = port }
            else if outs.contains(port) { sources.append(port) }
            else if ins.contains(port) { destinations.append(port) }
            else { throw HostError.jack("no JACK port named '\(port)' (see --list-ports)") }
        }
        return (sources, destinations, midi)
    }

    func finish(_ session: HostSession, _ stop: StopSignal) throws {
        if stats { print(session.statisticsJSON()) }
        if stop.isFailure, let reason = stop.reason { fail(reason) }
    }

    func watchSignals(_ stop: StopSignal) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stop.raise() }
            source.resume()
            signalSources.append(source)
        }
    }
}

nonisolated(unsafe) var signalSources: [DispatchSourceSignal] = []

func fail(_ message: String) -> Never {
    fputs("fxhost: error: \(message)\n", stderr)
    exit(1)
}
