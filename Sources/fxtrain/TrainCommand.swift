import ArgumentParser
import Foundation
import NeuralFXCore
import NeuralFXDistributed
import NeuralFXModelFiles
import NeuralFXTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fit a micro-tcn model or Neural Amp Modeler's WaveNet or LSTM to a folder of paired recordings.",
        discussion: """
        DATASET_DIR holds a native dataset (manifest.json), SignalTrain's layout (Train/ Val/ Test/ with \
        input_<id>_.wav and target_<id>_<DEVICE>__<switch>__<peak>.wav), or one Input.wav with \
        target_at_A_re_R_ra_Q_th_T.wav files (Tube-Tech CL 1B captures). Before training, every pair is checked: \
        sample rates and lengths, latency (removed), polarity (flipped), silence, clipping and level. \
        --arch nam-standard (or nam-lite, nam-feather, nam-nano) trains NAM's WaveNet preset of that name (one process): \
        on pairs at one knob setting (or without knobs) it writes a .nam file that NAM's plugin loads; on pairs at \
        several settings the knobs become extra condition inputs and it writes a NeuralFX .safetensors file \
        (a .nam file cannot hold knobs) that fxrender, fxhost and the LV2 plugin play with the same knobs. \
        --arch nam-lstm trains NAM's LSTM (3 layers of 18 cells; --layers, --hidden-size, --burn-in, --truncate) \
        on pairs at one setting and writes a .nam file too. \
        The log (CSV), loss curve and test plot (SVG) and a checkpoint are written next to the model. \
        `fxtrain train --resume CHECKPOINT` alone continues a run with its dataset, output and stopping point; \
        any of them given again overrides the checkpoint's, and fxtrain says so. \
        Started by mpirun (mpirun -np N fxtrain train ...), N processes train one model together, each \
        computing its share of every batch (--threads per process); see docs/training.md.
        """)

    @Argument(help: "Dataset folder (with --resume: the checkpoint's, unless given).") var dataset: String?
    @Option(help: "Architecture: micro-tcn's \(MicroTCNConfig.namedConfigurations.joined(separator: ", ")), or Neural Amp Modeler's WaveNet \(WaveNetPreset.names.joined(separator: ", ")) or LSTM \(LSTMConfig.name).")
    var arch = "utcn-300-c"
    @Option(help: "Model file to write (.safetensors; .nam for NAM's LSTM and a WaveNet without knobs; with --resume: the checkpoint's, unless given).") var out: String?
    @Option(help: "Stop after this many minutes of training (counted across resumed sessions).") var minutes: Double?
    @Option(help: "Stop after this many passes over the training audio.") var epochs: Double?
    @Option(help: "Stop after this many optimizer steps.") var steps: Int?
    @Option(help: "Continue the run saved in this checkpoint (with that run's settings, dataset, output and stopping point).")
    var resume: String?
    @Option(help: "Block activation: \(ActivationKind.allCases.filter { $0 != .identity }.map(\.rawValue).joined(separator: ", ")).")
    var activation = "prelu"
    @Option(help: "Channels per block, instead of the architecture's 32 (a smaller or wider variant).")
    var channels: Int?
    @Option(help: "Normalization while training: batch (BatchNorm with batch statistics, as micro-tcn) or fixed (the running statistics held at mean 0, variance 1).")
    var normalization = "batch"
    @Option(name: .customLong("lr"), help: "Learning rate (default 0.001; NAM's WaveNet 0.004 and LSTM 0.008, as NAM's recipes).") var learningRate: Float?
    @Option(help: "nam-lstm: stacked LSTM layers (NAM's recipe: \(LSTMConfig.nam.layers)).") var layers: Int?
    @Option(name: .customLong("hidden-size"), help: "nam-lstm: cells per layer (NAM's recipe: \(LSTMConfig.nam.hiddenSize)).") var hiddenSize: Int?
    @Option(name: .customLong("burn-in"), help: "nam-lstm: input samples before each chunk the LSTM runs over without loss (NAM's recipe: \(LSTMConfig.nam.burnIn)).")
    var burnIn: Int?
    @Option(help: "nam-lstm: cut backpropagation through time every this many samples after the burn-in (default: exact over the chunk, as NAM's recipe).")
    var truncate: Int?
    @Option(name: .customLong("batch"), help: "Chunks per batch.") var batchSize = 8
    @Option(name: .customLong("chunk"), help: "Output samples per chunk.") var chunkLength = 8192
    @Option(help: "Loss: terms l1, mse, esr, esr-pre[=A], stft, mrstft, each optionally W* a weight (mse+0.001*mrstft), joined by '+'. MSE is the default: it learned both bundled devices best (docs/training.md).")
    var loss = "mse"
    @Option(help: "Seed for initialization and batch sampling.") var seed: UInt64 = 1
    @Option(name: .customLong("val-every"), help: "Steps between validations.") var validationInterval = 200
    @Option(name: .customLong("knob-names"), help: "Names of SignalTrain's two file-name knobs, comma-separated.") var knobNames: String?
    @Option(help: "Whole knob settings held out for testing when the layout has no splits.") var holdout = 0
    @Option(name: .customLong("max-latency"), help: "Largest input-to-target latency accepted, in samples.") var maxLatency = 1000
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.") var weightDecay: Float = 0
    @Option(help: "Largest gradient norm (0: no clipping).") var clip: Float = 10
    @Option(help: "Validations without improvement before the learning rate halves.") var patience = 10
    @Option(name: .customLong("lr-decay"), help: "Instead of halving on plateaus, multiply the learning rate by this after every epoch (NAM's trainer: 0.993).")
    var learningRateDecay: Float?
    @Option(name: .customLong("checkpoint-minutes"), help: "Minutes between checkpoints.") var checkpointMinutes: Double = 3
    @Option(name: .customLong("eval-seconds"), help: "Seconds of each validation/test segment scored.") var evaluationSeconds: Double = 10
    @Option(help: "Worker threads (per process under mpirun).") var threads = 2
    @Option(help: "Under mpirun, how processes combine gradients: ordered (every item's gathered and added in one order: the model one process trains, bit for bit) or sum (MPI_Allreduce of each process's sum: fewer bytes, the same model within rounding).")
    var reduction = "ordered"
    @Option(help: "What the model is and what it was trained on, for its metadata (default: the architecture and dataset folder).")
    var description: String?
    @Option(name: .customLong("data-source"), help: "Where the recordings come from, for the model's provenance (with --resume: give it again).")
    var dataSource: String?
    @Option(name: .customLong("data-license"), help: "The recordings' license, for the model's provenance (with --resume: give it again).")
    var dataLicense: String?
    @Option(help: "A work to cite when using the model (repeatable; with --resume: give them again).") var cite: [String] = []
    @Flag(name: .customLong("weight-settings"), help: "Weight each knob setting's loss by the inverse of its targets' mean power, so that quiet settings (heavy compression) count as much as loud ones (with --resume: from there on).")
    var weightSettings = false
    @Option(name: .customLong("gain-rate"), help: "Multiply the learning rate of the gain computer's parameters (architectures ending in -gain) by this (default 30).")
    var gainRate: Float?
    @Option(name: .customLong("gain-ratio"), help: "Start the gain computer at this compression ratio, as a datasheet gives it: one ratio (4), or one per position of a two-position switch (mode=3,10); the slope then depends on no other knob, and with feedback the attack scales with it so the loop's speed stays (with --resume: replaces the run's ratio, and the best weights are chosen afresh).")
    var gainRatio: String?
    @Flag(help: "Replace an existing model file.") var overwrite = false

    func validate() throws {
        if resume == nil {
            if dataset == nil { throw ValidationError("give the dataset folder") }
            if out == nil { throw ValidationError("give --out, the model file to write") }
            if minutes == nil && epochs == nil && steps == nil { throw ValidationError("give --minutes, --epochs or --steps") }
        }
        if let m = minutes, !(m > 0) { throw ValidationError("--minutes must be positive") }
        if let e = epochs, !(e > 0) { throw ValidationError("--epochs must be positive") }
        if let s = steps, s < 1 { throw ValidationError("--steps must be positive") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let c = channels, c < 1 || c > 256 { throw ValidationError("--channels must be in 1...256") }
        if !(checkpointMinutes > 0) { throw ValidationError("--checkpoint-minutes must be positive") }
        if BatchReduction(rawValue: reduction) == nil { throw ValidationError("--reduction must be ordered or sum") }
        if let g = gainRatio {
            do { _ = try GainRatioStart(parsing: g) } catch let e as DatasetError { throw ValidationError(e.description) }
        }
    }

    func run() throws {
        // mpirun's environment says whether this is one rank of many; a plain run never starts MPI.
        let ranks = Communicator.start(environment: ProcessInfo.processInfo.environment).map(Ranks.init)
        do {
            try train(ranks)
            ranks?.communicator.finish()
        } catch let code as ExitCode {
            ranks?.communicator.finish()
            throw code
        } catch {
            let message: String
            switch error {
            case let e as DatasetError: message = e.description
            case let e as ModelFileError: message = "\(e)"
            case let e as RankFailure: message = e.description
            default: throw error
            }
            guard let ranks else {
                FileHandle.standardError.write("fxtrain: error: \(message)\n".data(using: .utf8)!)
                throw ExitCode(1)
            }
            if ranks.inLockstep {
                // The other ranks wait in an exchange this rank will never join.
                FileHandle.standardError.write("fxtrain: error: rank \(ranks.rank): \(message)\n".data(using: .utf8)!)
                ranks.endingWithOwnLine()
                ranks.communicator.abort(code: 1)
            }
            // Every rank knows this failure; rank 0 alone says it.
            if ranks.isLeader { FileHandle.standardError.write("fxtrain: error: \(message)\n".data(using: .utf8)!) }
            ranks.communicator.finish()
            throw ExitCode(1)
        }
    }

    func train(_ ranks: Ranks?) throws {
        let leader = ranks?.isLeader ?? true
        // Rank 0 alone speaks and writes; the other ranks only compute.
        func say(_ line: String) { if leader { print(line); fflush(stdout) } }
        let fm = FileManager.default
        // Rank 0 reads the checkpoint and sends it on: the other ranks need
        // not see its folder, and all learn the run's dataset and output from it.
        var checkpoint: Checkpoint?
        var checkpointBytes: [UInt8] = []
        try stage(ranks) {
            guard leader, let resume else { return }
            checkpoint = try Checkpoint.read(from: resume)
            checkpointBytes = [UInt8](fm.contents(atPath: resume) ?? Data())
        }
        if let ranks, resume != nil {
            checkpointBytes = ranks.communicator.broadcast(checkpointBytes)
            try ranks.stage {
                if !leader { checkpoint = try JSONDecoder().decode(Checkpoint.self, from: Data(checkpointBytes)) }
            }
        }
        var resolved: (RunRecord, [String])?
        try stage(ranks) {
            // `self.`: the run's values shadow these below.
            let given = RunRecord(dataset: self.dataset.map(absolutePath) ?? "", out: self.out.map(absolutePath) ?? "",
                                  steps: self.steps, minutes: self.minutes, epochs: self.epochs,
                                  knobNames: knobNames.map(splitNames))
            resolved = try checkpoint.map { try RunRecord.resolve(given: given, saved: $0.run) } ?? (given, [])
        }
        let (run, overrides) = resolved!
        let (dataset, out, steps, minutes, epochs) = (run.dataset, run.out, run.steps, run.minutes, run.epochs)
        if checkpoint != nil {
            say("resuming \(run.dataset) into \(run.out), until \(run.stopDescription)")
            for o in overrides { say("given again, overriding the checkpoint: \(o)") }
        }
        let base = [".safetensors", ".nam"].first { out.hasSuffix($0) }.map { String(out.dropLast($0.count)) } ?? out
        let checkpointPath = base + ".checkpoint"
        var loaded: TrainingDataset?
        try stage(ranks) {
            if leader {
                if fm.fileExists(atPath: out) && !overwrite {
                    throw DatasetError("'\(out)' already exists; choose another --out or pass --overwrite")
                }
                let folder = (out as NSString).deletingLastPathComponent
                var isFolder: ObjCBool = false
                if !folder.isEmpty && !(fm.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue) {
                    throw DatasetError("the folder of --out, '\(folder)', does not exist")
                }
                if !fm.isWritableFile(atPath: folder.isEmpty ? "." : folder) {
                    throw DatasetError("cannot write in '\(folder.isEmpty ? "." : folder)'")
                }
                if resume == nil && fm.fileExists(atPath: checkpointPath) && !overwrite {
                    throw DatasetError("'\(checkpointPath)' exists from an earlier run; continue it with --resume \(checkpointPath), or pass --overwrite")
                }
            }
            // Rank 0 validates, so it holds every sample; the other ranks read
            // the files' headers now and their own chunks as they train.
            let data = try TrainingDataset.load(from: dataset, knobNames: run.knobNames, decode: leader)
            loaded = data
            say("dataset: \(data.pairs.count) pairs (\(data.layout)), \(data.sampleRate) Hz, knobs: \(data.knobs.names.joined(separator: ", "))")
        }
        var data = loaded!
        if let ranks {
            // Every rank must train on the bytes rank 0 checked.
            var mine = ""
            try ranks.stage { mine = try data.fingerprint() }
            let reference = String(decoding: ranks.communicator.broadcast(Array(mine.utf8)), as: UTF8.self)
            try ranks.stage {
                if mine != reference {
                    throw DatasetError("the dataset at '\(dataset)' differs from rank 0's (\(mine) here, \(reference) on rank 0)")
                }
            }
        }
        var settings: TrainingSettings!
        try stage(ranks) {
            if let checkpoint {
                settings = checkpoint.settings
                say("resuming at step \(checkpoint.step) from \(resume!)")
                if weightSettings && settings.weightSettings != true {
                    // Fine-tuning a run towards the heavy settings.
                    settings.weightSettings = true
                    say("given again, overriding the checkpoint: --weight-settings (the validation loss is weighted from here on, "
                        + "so the best weights are chosen afresh)")
                }
            } else {
                guard let kind = ActivationKind(rawValue: activation.lowercased()), kind != .identity else {
                    throw DatasetError("unknown activation '\(activation)'; use one of "
                                       + ActivationKind.allCases.filter { $0 != .identity }.map(\.rawValue).joined(separator: ", "))
                }
                guard let norm = Normalization(rawValue: normalization.lowercased()) else {
                    throw DatasetError("unknown normalization '\(normalization)'; use batch or fixed")
                }
                let preset = WaveNetPreset(rawValue: arch.lowercased())
                let lstm = arch.lowercased() == LSTMConfig.name
                if !lstm && (layers != nil || hiddenSize != nil || burnIn != nil || truncate != nil) {
                    throw DatasetError("--layers, --hidden-size, --burn-in and --truncate are nam-lstm's")
                }
                // Pairs at several knob settings give the WaveNet the knobs as
                // condition inputs; at one setting it is a capture of it (.nam).
                let settingCount = Set(data.pairs.map { data.conditioning($0) }).count
                let waveNetKnobs = settingCount > 1 ? data.knobs.conditioningSize : 0
                guard var s = preset.map({ TrainingSettings(waveNet: $0, knobs: waveNetKnobs) })
                        ?? (lstm ? TrainingSettings(lstm: LSTMConfig(layers: layers ?? LSTMConfig.nam.layers,
                                                                    hiddenSize: hiddenSize ?? LSTMConfig.nam.hiddenSize,
                                                                    burnIn: burnIn ?? LSTMConfig.nam.burnIn, truncation: truncate)) : nil)
                        ?? TrainingSettings.named(arch, nparams: data.knobs.conditioningSize, activation: kind) else {
                    throw DatasetError("unknown architecture '\(arch)'; use one of "
                                       + (MicroTCNConfig.namedConfigurations + WaveNetPreset.names + [LSTMConfig.name]).joined(separator: ", "))
                }
                if s.trainsNAM && channels != nil {
                    throw DatasetError("--channels sets micro-tcn's width; NAM's models have their own")
                }
                s.learningRate = learningRate ?? (preset != nil ? 4e-3 : s.learningRate)
                s.batchSize = batchSize
                s.chunkLength = chunkLength
                s.loss = loss
                s.seed = seed
                s.validationInterval = validationInterval
                s.weightDecay = weightDecay
                s.gradientClip = clip
                s.plateauPatience = patience
                s.learningRateDecay = learningRateDecay
                s.holdout = holdout
                s.maxLatency = maxLatency
                s.evaluationSeconds = evaluationSeconds
                s.threads = threads
                s.normalization = norm
                if weightSettings { s.weightSettings = true }
                s.gainRateScale = gainRate
                if let channels {
                    s.config.channelWidth = channels
                    s.architecture += "/\(channels)ch"
                }
                settings = s
            }
            if let problem = settings.problem { throw DatasetError(problem) }
            // Resumed runs too: --out may be given again.
            if settings.waveNet != nil && settings.knobInputs > 0 && !out.hasSuffix(".safetensors") {
                throw DatasetError("a .nam file cannot hold knobs, and this WaveNet takes the dataset's \(settings.knobInputs) knob inputs: give --out NAME.safetensors")
            }
            if settings.trainsNAM && settings.knobInputs == 0 && !out.hasSuffix(".nam") {
                throw DatasetError("NAM's \(settings.lstm != nil ? "LSTM" : "WaveNet")\(settings.lstm != nil ? "" : " without knobs") is written as a .nam file: give --out NAME.nam")
            }
            if let ranks, ranks.size > settings.batchSize {
                throw DatasetError("\(ranks.size) processes share a batch of \(settings.batchSize): each needs at least one item; raise --batch or start fewer")
            }
        }
        // The data checks run once, on rank 0; the others apply what it found.
        var checks: [PairCheck] = []
        try stage(ranks) {
            guard leader else { return }
            checks = try DataChecks.run(&data, maxLatency: settings.maxLatency)
            for c in checks where !c.notes.isEmpty { say("check \(c.name): " + c.notes.joined(separator: "; ")) }
            say("checks: \(checks.count) pairs passed; latency removed: "
                + checks.map { "\($0.latency)" }.joined(separator: " ") + " samples")
        }
        var plan: DataSplitPlan!
        var trainer: Trainer!
        // Rank 0 (or the one process), which holds the samples, splits them and finds the targets' loudness.
        try stage(ranks) {
            guard leader else { return }
            plan = try DataSplitPlan(dataset: data, holdout: settings.holdout, seed: settings.seed)
            let seconds = { (s: DataSplit) in plan.segments(s).reduce(0) { $0 + $1.length } / data.sampleRate }
            say("split: \(plan.rule); train \(seconds(.train)) s, validation \(seconds(.validation)) s, test \(seconds(.test)) s")
            trainer = try Trainer(dataset: data, plan: plan, settings: settings, resumeFrom: checkpoint, exchange: ranks?.communicator)
        }
        if let ranks {
            // The others hold no samples: they take the checks, the split and
            // the loudness map from rank 0, and read their own chunks from disk.
            let found = ranks.communicator.broadcast(leader ? [UInt8]((try? JSONEncoder().encode(checks)) ?? Data()) : [])
            let split = ranks.communicator.broadcast(leader ? [UInt8]((try? JSONEncoder().encode(plan)) ?? Data()) : [])
            let loudness = ranks.communicator.broadcast(leader ? trainer.loudness.bytes : [])
            try ranks.stage {
                guard !leader else { return }
                checks = try JSONDecoder().decode([PairCheck].self, from: Data(found))
                plan = try JSONDecoder().decode(DataSplitPlan.self, from: Data(split))
                guard let loudness = ChunkLoudness(bytes: loudness), loudness.lengths.count == data.pairs.count else {
                    throw DatasetError("rank 0's loudness map of the targets arrived damaged")
                }
                trainer = try Trainer(dataset: data, plan: plan, settings: settings, resumeFrom: checkpoint, exchange: ranks.communicator,
                                      files: try ChunkFiles(dataset: data, checks: checks), loudness: loudness)
            }
        }
        if let ranks {
            (trainer.network as? TrainingNetwork<Float>)?.reduction = BatchReduction(rawValue: reduction)!
            say("training on \(ranks.size) processes (mpirun), \(settings.threads) thread\(settings.threads == 1 ? "" : "s") each; "
                + "gradients combined \(reduction == "sum" ? "by MPI_Allreduce sums" : "in item order")")
        }
        if let gainRatio {
            let start = try GainRatioStart(parsing: gainRatio)
            try stage(ranks) { try trainer.startGainRatio(start) }
            say("gain computer: ratio set to \(gainRatio)" + (checkpoint == nil ? "" : " (the best weights are chosen afresh)"))
        }
        trainer.commands.append((["fxtrain"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        trainer.runRecord = run
        say("model: \(settings.architecture), \(trainer.network.parameters.count) parameters, receptive field \(settings.receptiveField); "
            + "loss \(settings.loss), batch \(settings.batchSize) x \(settings.chunkLength), lr \(settings.learningRate), "
            + "\(trainer.stepsPerEpoch) steps per epoch")
        var limits = TrainingLimits(steps: steps, seconds: minutes.map { $0 * 60 })
        if let epochs { limits.steps = min(limits.steps ?? .max, Int((epochs * Double(trainer.stepsPerEpoch)).rounded(.up))) }
        installInterruptHandler()
        var lastValidations = trainer.history.count
        var lastPrint = Date.distantPast
        // Rewriting a line in place only makes sense on a terminal; in a log
        // it would pile up into one enormous line.
        let terminal = isatty(STDERR_FILENO) == 1
        ranks?.reportFailedRanksOnTermination(checkpointPath: checkpointPath)
        let watchdog = ranks?.startWatchdog(checkpointPath: checkpointPath)
        if ranks != nil, watchdog == nil {
            say("warning: this MPI gives no thread support for a watchdog: a rank that stops answering will stall the job")
        }
        var stepStarted = Watchdog.now()
        ranks?.inLockstep = true
        let (stepsBefore, bytesBefore) = (trainer.step, ranks?.communicator.receivedBytes ?? 0)
        let secondsBefore = ranks?.communicator.exchangeSeconds ?? 0
        let reason = try trainer.run(limits: limits, checkpointPath: leader ? checkpointPath : nil, checkpointSeconds: checkpointMinutes * 60,
                                     shouldStop: { interruptRequested != 0 }) { line in
            if let watchdog {
                let now = Watchdog.now()
                watchdog.noteStep(seconds: now - stepStarted)
                stepStarted = now
                if let step = trainer.lastCheckpointStep { watchdog.noteCheckpoint(step: step) }
            }
            guard leader else { return }
            // A fresh line after each validation keeps a record; otherwise overwrite in place.
            let newline = trainer.history.count != lastValidations
            lastValidations = trainer.history.count
            if !terminal {
                if newline { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                return
            }
            guard newline || Date().timeIntervalSince(lastPrint) >= 0.5 else { return }
            lastPrint = Date()
            FileHandle.standardError.write(("\r" + line + "\u{1B}[K" + (newline ? "\n" : "")).data(using: .utf8)!)
        }
        ranks?.inLockstep = false
        if let ranks, trainer.step > stepsBefore {
            let steps = trainer.step - stepsBefore
            let perStep = (ranks.communicator.receivedBytes - bytesBefore) / steps
            let waited = (ranks.communicator.exchangeSeconds - secondsBefore) / Double(steps)
            say("\(ranks.size) processes: rank 0 received \(perStep) bytes per step from the others and spent "
                + String(format: "%.1f ms per step in exchanges (moving them, and waiting for the others)", waited * 1000))
        }
        if let ranks {
            // Rank 0 decoded the whole dataset; the others only their items' chunks.
            let frames = ranks.communicator.gatherMessages("\(DecodedFrames.count)")
            say("audio frames decoded: " + frames.enumerated().map { "rank \($0) \($1)" }.joined(separator: ", ")
                + " (rank 0 the whole dataset, the others their share of each batch)")
        }
        // The ranks no longer step together: rank 0 may take long over the test report.
        watchdog?.stop()
        // The other ranks are done: the result is rank 0's to write.
        guard leader else { return }
        if terminal { FileHandle.standardError.write("\n".data(using: .utf8)!) }
        writeLog(trainer, base: base)
        if reason == "interrupted" {
            say("interrupted at step \(trainer.step); checkpoint saved: continue with --resume \(checkpointPath)")
            throw ExitCode(130)
        }
        if trainer.history.isEmpty || trainer.history.last!.step != trainer.step {
            trainer.validate(seconds: trainer.history.last?.seconds ?? 0, samplesPerSecond: trainer.history.last?.samplesPerSecond ?? 0)
        }
        say("stopped: \(reason) at step \(trainer.step) (epoch \(String(format: "%.2f", trainer.epoch))); best validation loss \(String(format: "%.5g", trainer.bestValidation))")
        let report = trainer.testReport()
        say("test metrics (held out):")
        for m in report.perSetting { say("  " + m.line) }
        say("  " + report.overall.line)
        say(String(format: "  baseline: best gain per knob setting, ESR %.4f", report.perSettingGainESR))
        let name = (base as NSString).lastPathComponent
        var facts = provenance(trainer, report: report, checks: checks)
        if let config = settings.waveNetConfig, config.knobCount > 0 {
            // NeuralFX's own file: the knobs as micro-tcn's, a level knob's gain applied outside the network.
            try WaveNetModelFile.save(config: config, weights: trainer.best.parameters, to: out, name: name,
                                      description: description ?? "NAM WaveNet \(settings.architecture) with knobs trained by fxtrain on \(dataset)",
                                      sampleRate: Double(data.sampleRate), knobs: data.knobs, provenance: facts,
                                      overwrite: overwrite || resume != nil)
        } else if let lstm = settings.lstm {
            facts["description"] = description ?? "NAM LSTM (\(lstm.layers) x \(lstm.hiddenSize)) trained by fxtrain on \(dataset)"
            try NAMFileWriter.write(lstmLayers: lstm.layers, hiddenSize: lstm.hiddenSize, weights: lstm.fileWeights(trainer.best.parameters),
                                    sampleRate: Double(data.sampleRate), metadata: namMetadata(trainer, name: name, facts: facts),
                                    to: out, overwrite: overwrite || resume != nil)
        } else if let config = settings.waveNetConfig {
            facts["description"] = description ?? "NAM WaveNet \(settings.architecture) trained by fxtrain on \(dataset)"
            try NAMFileWriter.write(config: config, weights: trainer.best.parameters, sampleRate: Double(data.sampleRate),
                                    metadata: namMetadata(trainer, name: name, facts: facts), to: out, overwrite: overwrite || resume != nil)
        } else {
            try ModelFile.save(trainer.bestMicroTCNWeights!, to: out, name: name,
                               description: description ?? "micro-tcn \(settings.architecture) trained by fxtrain on \(dataset)",
                               sampleRate: Double(data.sampleRate), knobs: data.knobs,
                               provenance: facts, overwrite: overwrite || resume != nil)
        }
        writeLog(trainer, base: base)
        if let example = report.example {
            let svg = SVGPlot.waveforms(target: example.target, prediction: example.prediction, sampleRate: data.sampleRate,
                                        title: "Test clip: \(data.settingDescription(data.pairs[example.segment.pair]))")
            try? svg.write(toFile: base + "-test.svg", atomically: true, encoding: .utf8)
        }
        say("wrote \(out), \(base)-log.csv, \(base)-loss.svg, \(base)-test.svg")
    }

    /// A .nam file's metadata: its name, and the best validation ESR where
    /// NAM's plugin shows it (its trainer's `training` entry), beside fxtrain's facts.
    func namMetadata(_ trainer: Trainer, name: String, facts: [String: Any]) -> [String: Any] {
        let bestRow = trainer.history.min { $0.validationLoss < $1.validationLoss }
        let esr = bestRow.map(\.validationESR).flatMap { $0.isFinite ? $0 : nil }
        return ["name": name, "training": ["validation_esr": esr.map { $0 as Any } ?? NSNull(), "fxtrain": facts]]
    }

    /// The run's facts plus the commands that trained it: the first session's
    /// as `command`, and for a resumed run the later ones as `resumed_with`.
    func provenance(_ trainer: Trainer, report: TestReport, checks: [PairCheck]) -> [String: Any] {
        var p = trainer.provenance(report: report, checks: checks)
        if let first = trainer.commands.first { p["command"] = first }
        if trainer.commands.count > 1 { p["resumed_with"] = trainer.commands.dropFirst().joined(separator: "\n") }
        p["trained_on"] = trainer.dataset.referenceDevice.map {
            "pairs rendered by fxtrain dataset from NeuralFX's '\($0)' reference device (a digital simulation, not hardware)"
        } ?? "the paired recordings in \(trainer.runRecord?.dataset ?? "")"
        // Recordings carry their maker's terms; a model learned from them
        // says where they came from so its users can credit them.
        if let dataSource { p["data_source"] = dataSource }
        if let dataLicense { p["data_license"] = dataLicense }
        if !cite.isEmpty { p["cite"] = cite }
        return p
    }

    func writeLog(_ trainer: Trainer, base: String) {
        let csv = ([LogRow.csvHeader] + trainer.history.map(\.csv)).joined(separator: "\n") + "\n"
        try? csv.write(toFile: base + "-log.csv", atomically: true, encoding: .utf8)
        if !trainer.history.isEmpty {
            try? SVGPlot.lossCurve(trainer.history, title: "fxtrain \(trainer.settings.architecture): loss")
                .write(toFile: base + "-loss.svg", atomically: true, encoding: .utf8)
        }
    }
}

private func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

private func splitNames(_ text: String) -> [String] {
    text.split(separator: ",").map { String($0).filter { $0 != " " } }
}
