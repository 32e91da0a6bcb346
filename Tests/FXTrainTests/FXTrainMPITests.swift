import Foundation
import XCTest
import NeuralFXAudio
import NeuralFXCore
import NeuralFXModelFiles

/// fxtrain started by Open MPI's mpirun (issue 18): N ranks train the model
/// one process trains, bit for bit; a run resumes with another number of
/// ranks; a killed rank ends the job with one line naming it and leaves a
/// usable checkpoint; ranks other than 0 write nothing; a dataset missing
/// on one rank is reported, not waited on.
final class FXTrainMPITests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "fxtrain-mpi-\(getpid())-\(name.filter { $0.isLetter })"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try writeClipperDataset(directory + "/data")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    var executable: String {
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("fxtrain").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    var mpirun: String {
        get throws {
            let found = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
            return try XCTUnwrap(found, "mpirun not found: `make setup` installs openmpi-bin")
        }
    }

    /// A small, quick model: a few steps take well under a second.
    var tiny: [String] { tiny(batch: 4) }
    func tiny(batch: Int) -> [String] {
        ["--arch", "utcn-100-c", "--channels", "8", "--batch", "\(batch)", "--chunk", "1024", "--val-every", "5",
         "--eval-seconds", "1", "--threads", "1"]
    }

    func writeClipperDataset(_ folder: String) throws {
        var entries: [String] = []
        for (i, drive) in [0.0, 0.5, 1.0].enumerated() {
            var rng = SplitMix64(seed: UInt64(i + 1))
            let x: [Float] = (0..<(3 * 8000)).map { t in
                0.5 * Float.sin(Float(t) * 0.05) * (0.3 + 0.7 * Float(t % 4000) / 4000) + 0.05 * rng.nextFloat(in: -1...1)
            }
            let g = Float(1 + 4 * drive)
            try write(x, folder + "/in\(i).wav")
            try write(x.map { Float.tanh(g * $0) / g }, folder + "/out\(i).wav")
            entries.append(#"{"input":"in\#(i).wav","target":"out\#(i).wav","knobs":{"drive":\#(drive)}}"#)
        }
        try Data(#"{"sample_rate":8000,"pairs":[\#(entries.joined(separator: ","))]}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/manifest.json"))
    }

    func write(_ samples: [Float], _ path: String) throws {
        let w = try AudioFileWriter(path: path, sampleRate: 8000, channels: 1, sampleFormat: .float)
        try samples.withUnsafeBufferPointer { try w.write($0.baseAddress!, frames: samples.count) }
        try w.finish()
    }

    struct Outcome {
        var status: Int32
        var output: String
        var error: String
        var seconds: Double
    }

    /// Starts `program` with its output going to files (no pipe can fill up).
    func start(_ program: String, _ arguments: [String], tag: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        p.environment = environment
        for path in ["\(directory)/\(tag).out", "\(directory)/\(tag).err"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil), path)
        }
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/\(tag).out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/\(tag).err"))
        try p.run()
        return p
    }

    /// Waits for `p` at most `timeout` seconds (killing it after that).
    func finish(_ p: Process, tag: String, timeout: Double = 60) throws -> Outcome {
        let started = Date()
        while p.isRunning && Date().timeIntervalSince(started) < timeout { usleep(20_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            XCTFail("\(tag) did not end within \(timeout) s")
        }
        p.waitUntilExit()
        let read = { (suffix: String) in (try? String(contentsOfFile: "\(self.directory)/\(tag).\(suffix)", encoding: .utf8)) ?? "" }
        return Outcome(status: p.terminationStatus, output: read("out"), error: read("err"), seconds: Date().timeIntervalSince(started))
    }

    func fxtrain(_ arguments: [String], tag: String) throws -> Outcome {
        try finish(try start(executable, ["train"] + arguments, tag: tag), tag: tag)
    }

    /// `mpirun -q --allow-run-as-root --oversubscribe -np N fxtrain train ...`;
    /// `-q` keeps mpirun's own notices out, so fxtrain's lines stand alone.
    func mpi(_ ranks: Int, _ arguments: [String], tag: String) throws -> Outcome {
        try finish(try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", executable, "train"] + arguments,
                             tag: tag), tag: tag)
    }

    /// Everything of a checkpoint that the training computed: not the clock,
    /// the command lines, the run's paths, or the thread count in the settings.
    func state(_ path: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var result: [String: String] = [:]
        for (key, value) in json where !["elapsedSeconds", "commands", "run", "settings", "history"].contains(key) {
            let encoded = try JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys])
            result[key] = String(decoding: encoded, as: UTF8.self)
        }
        let history = try XCTUnwrap(json["history"] as? [[String: Any]])
        result["history"] = history.map { row in
            ["step", "trainLoss", "validationLoss", "validationESR", "learningRate"].map { "\(row[$0] ?? "-")" }.joined(separator: ",")
        }.joined(separator: ";")
        XCTAssertFalse(history.isEmpty)
        return result
    }

    func modelTensors(_ path: String) throws -> [(String, [Float])] {
        let weights = try XCTUnwrap(try ModelFile.load(path: path).blueprint as? MicroTCNWeights)
        return weights.namedTensors.map { ($0.0, $0.2) }
    }

    func assertSameTraining(_ one: String, _ many: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try state(one + ".checkpoint"), b = try state(many + ".checkpoint")
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
        // Values are long: name what differs rather than print it.
        for key in a.keys.sorted() { XCTAssertTrue(a[key] == b[key], "checkpoint '\(key)' differs", file: file, line: line) }
        let ta = try modelTensors(one + ".safetensors"), tb = try modelTensors(many + ".safetensors")
        XCTAssertEqual(ta.map(\.0), tb.map(\.0), file: file, line: line)
        var largest: Float = 0
        for ((name, x), (_, y)) in zip(ta, tb) {
            let differing = zip(x, y).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            XCTAssertTrue(x.count == y.count && differing == 0, "tensor \(name): \(differing) of \(x.count) values differ", file: file, line: line)
            for (u, v) in zip(x, y) { largest = max(largest, abs(u - v) / max(abs(u), 1e-12)) }
        }
        XCTAssertLessThanOrEqual(largest, 1e-5, file: file, line: line)
    }

    func testTwoRanksTrainBitForBitTheModelOfOneProcess() throws {
        let data = directory + "/data"
        // BatchNorm on batch statistics couples the items of a batch: the
        // ranks gather its per-item sums too.
        let steps = ["--steps", "40"] + tiny
        let one = try fxtrain([data, "--out", directory + "/one.safetensors"] + steps, tag: "one")
        XCTAssertEqual(one.status, 0, one.error)
        try FileManager.default.createDirectory(atPath: directory + "/two", withIntermediateDirectories: true)
        let two = try mpi(2, [data, "--out", directory + "/two/m.safetensors"] + steps, tag: "two")
        XCTAssertEqual(two.status, 0, two.output + two.error)
        XCTAssertTrue(two.output.contains("training on 2 processes"), two.output)
        XCTAssertTrue(two.output.contains("stopped: reached 40 steps at step 40"), two.output)
        try assertSameTraining(directory + "/one", directory + "/two/m")
        // Rank 0 writes exactly what one process writes, and nothing else.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/two").sorted(),
                       ["m-log.csv", "m-loss.svg", "m-test.svg", "m.checkpoint", "m.safetensors"])
        // Each line of output once: rank 1 says nothing.
        XCTAssertEqual(two.output.components(separatedBy: "dataset: ").count, 2, two.output)
    }

    /// A checkpoint's flat parameter vector (little-endian float bits, base64).
    func parameters(_ checkpoint: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let bytes = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(json["parameters"] as? String)))
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + i + $1]) << (8 * $1) })
        }
    }

    func receivedBytes(_ output: String) throws -> Int {
        let line = try XCTUnwrap(output.split(separator: "\n").first { $0.contains("bytes per step") }, output)
        return try XCTUnwrap(line.split(separator: " ").compactMap { Int($0) }.last, String(line))
    }

    /// A longer dataset that the checks must change before training: every
    /// target lags its input by 5 samples, the middle pair's is inverted, and
    /// a level knob scales the targets (the trainer divides that gain out).
    func writeShiftedDataset(_ folder: String, seconds: Int) throws -> Int {
        var entries: [String] = []
        var frames = 0
        for (i, (drive, level)) in [(0.0, 1.0), (0.5, 0.5), (1.0, 0.25)].enumerated() {
            var rng = SplitMix64(seed: UInt64(i + 11))
            let x: [Float] = (0..<(seconds * 8000)).map { t in
                0.5 * Float.sin(Float(t) * 0.05) * (0.3 + 0.7 * Float(t % 4000) / 4000) + 0.05 * rng.nextFloat(in: -1...1)
            }
            let g = Float(1 + 4 * drive), gain = Float.pow(10, Float(-12 + 12 * level) / 20), sign: Float = i == 1 ? -1 : 1
            let y = [Float](repeating: 0, count: 5) + x.dropLast(5).map { sign * gain * Float.tanh(g * $0) / g }
            try write(x, folder + "/in\(i).wav")
            try write(y, folder + "/out\(i).wav")
            frames += x.count + y.count
            entries.append(#"{"input":"in\#(i).wav","target":"out\#(i).wav","knobs":{"drive":\#(drive),"level":\#(level)}}"#)
        }
        let knobs = #"[{"name":"drive","min":0,"max":1,"default":0,"input":0},"#
            + #"{"name":"level","min":0,"max":1,"default":1,"output_gain_db":[-12,0]}]"#
        try Data(#"{"sample_rate":8000,"knobs":\#(knobs),"pairs":[\#(entries.joined(separator: ","))]}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/manifest.json"))
        return frames
    }

    func testRanksOtherThanZeroDecodeOnlyTheirShareAndTrainTheSameModel() throws {
        let data = directory + "/long"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let datasetFrames = try writeShiftedDataset(data, seconds: 40)
        let steps = 8, batch = 4, chunk = 1024
        let args = ["--steps", "\(steps)", "--arch", "utcn-100-c", "--channels", "8", "--batch", "\(batch)", "--chunk", "\(chunk)",
                    "--val-every", "4", "--eval-seconds", "1", "--threads", "1"]
        let one = try fxtrain([data, "--out", directory + "/one.safetensors"] + args, tag: "one")
        XCTAssertEqual(one.status, 0, one.error)
        // The checks found what the dataset was made with.
        XCTAssertTrue(one.output.contains("latency removed: 5 5 5 samples"), one.output)
        XCTAssertTrue(one.output.contains("polarity is inverted"), one.output)
        let two = try mpi(2, [data, "--out", directory + "/two.safetensors"] + args, tag: "two")
        XCTAssertEqual(two.status, 0, two.output + two.error)
        // Rank 1 read its chunks from the files, shifted, flipped and scaled
        // as rank 0's samples in memory: the same model, bit for bit.
        try assertSameTraining(directory + "/one", directory + "/two")
        let line = try XCTUnwrap(two.output.split(separator: "\n").first { $0.hasPrefix("audio frames decoded: ") }, two.output)
        let counts = line.components(separatedBy: "rank ").dropFirst().compactMap { Int($0.split(separator: " ")[1].filter(\.isNumber)) }
        XCTAssertEqual(counts.count, 2, String(line))
        let modelLine = try XCTUnwrap(two.output.split(separator: "\n").first { $0.hasPrefix("model: ") }, two.output)
        let receptive = try XCTUnwrap(modelLine.components(separatedBy: "receptive field ").last?.prefix { $0.isNumber }).flatMap { Int($0) }
        let field = try XCTUnwrap(receptive, String(modelLine))
        // Rank 0 validates, so it decodes the whole dataset; rank 1 decodes
        // its 2 items of each step: each a chunk of target and the chunk of
        // input with the receptive field before it (less at a pair's start).
        XCTAssertEqual(counts.first, datasetFrames, String(line))
        let share = batch / 2
        XCTAssertLessThanOrEqual(counts.last ?? .max, share * steps * (2 * chunk + field - 1), String(line))
        XCTAssertGreaterThanOrEqual(counts.last ?? 0, share * steps * 2 * chunk, String(line))
        XCTAssertLessThan(Double(counts.last ?? .max), 0.1 * Double(datasetFrames), String(line))
    }

    func testSummingAllReduceStaysWithinRoundingOfOneProcess() throws {
        let data = directory + "/data"
        let steps = ["--steps", "40"] + tiny
        let one = try fxtrain([data, "--out", directory + "/one.safetensors"] + steps, tag: "one")
        XCTAssertEqual(one.status, 0, one.error)
        let ordered = try mpi(2, [data, "--out", directory + "/ordered.safetensors"] + steps, tag: "ordered")
        XCTAssertEqual(ordered.status, 0, ordered.error)
        let summed = try mpi(2, [data, "--out", directory + "/sum.safetensors", "--reduction", "sum"] + steps, tag: "sum")
        XCTAssertEqual(summed.status, 0, summed.error)
        XCTAssertTrue(summed.output.contains("by MPI_Allreduce sums"), summed.output)
        // One partial sum's worth instead of the other rank's two items.
        XCTAssertLessThan(Double(try receivedBytes(summed.output)), 0.6 * Double(try receivedBytes(ordered.output)))
        let x = try parameters(directory + "/one.checkpoint"), y = try parameters(directory + "/sum.checkpoint")
        XCTAssertEqual(x.count, y.count)
        let difference = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        let size = x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertLessThanOrEqual(difference / size, 1e-5, "relative difference after 40 steps")
        XCTAssertGreaterThan(size, 0)
    }

    func testUnevenSharesWithFixedNormalizationMatchOneProcess() throws {
        let data = directory + "/data"
        // 5 items over 3 ranks: shares of 1, 2 and 2.
        let steps = ["--steps", "12", "--normalization", "fixed"] + tiny(batch: 5)
        let one = try fxtrain([data, "--out", directory + "/one.safetensors"] + steps, tag: "one")
        XCTAssertEqual(one.status, 0, one.error)
        let three = try mpi(3, [data, "--out", directory + "/three.safetensors"] + steps, tag: "three")
        XCTAssertEqual(three.status, 0, three.output + three.error)
        try assertSameTraining(directory + "/one", directory + "/three")
    }

    func testRanksOtherThanZeroWriteNothing() throws {
        // Each rank is told its own output folder; only rank 0's may fill.
        let data = directory + "/data"
        for folder in ["zero", "one"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(folder)", withIntermediateDirectories: true)
        }
        let args = { (folder: String) in ["-np", "1", self.executable, "train", data, "--out", "\(self.directory)/\(folder)/m.safetensors",
                                          "--steps", "6", "--checkpoint-minutes", "0.001"] + self.tiny }
        let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe"] + args("zero") + [":"] + args("one"), tag: "mpmd")
        let r = try finish(p, tag: "mpmd")
        XCTAssertEqual(r.status, 0, r.output + r.error)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/zero").count, 5)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/one"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: data).sorted(),
                       ["in0.wav", "in1.wav", "in2.wav", "manifest.json", "out0.wav", "out1.wav", "out2.wav"])
    }

    func testResumeWithAnotherNumberOfRanks() throws {
        let data = directory + "/data"
        let straight = try fxtrain([data, "--out", directory + "/straight.safetensors", "--steps", "20"] + tiny, tag: "straight")
        XCTAssertEqual(straight.status, 0, straight.error)
        // 2 ranks to step 10, then 3 ranks on to step 20 from its checkpoint.
        let first = try mpi(2, [data, "--out", directory + "/split.safetensors", "--steps", "10"] + tiny, tag: "first")
        XCTAssertEqual(first.status, 0, first.error)
        let second = try mpi(3, [data, "--out", directory + "/resumed.safetensors", "--resume", directory + "/split.checkpoint",
                                 "--steps", "20"], tag: "second")
        XCTAssertEqual(second.status, 0, second.output + second.error)
        XCTAssertTrue(second.output.contains("resuming at step 10") && second.output.contains("training on 3 processes"), second.output)
        try assertSameTraining(directory + "/straight", directory + "/resumed")
    }

    func testKilledRankEndsTheJobWithOneLineNamingItAndAUsableCheckpoint() throws {
        let data = directory + "/data"
        let checkpoint = directory + "/m.checkpoint"
        let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe", "-np", "2", executable, "train", data,
                                       "--out", directory + "/m.safetensors", "--steps", "1000000", "--checkpoint-minutes", "0.002"] + tiny,
                          tag: "killed")
        let started = Date()
        while !FileManager.default.fileExists(atPath: checkpoint) && p.isRunning && Date().timeIntervalSince(started) < 30 { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint within 30 s")
        usleep(300_000)
        let rankOne = try rankProcess(1, of: p)
        kill(rankOne, SIGKILL)
        let r = try finish(p, tag: "killed", timeout: 15)
        XCTAssertLessThan(r.seconds, 10, "the job took \(r.seconds) s to end")
        XCTAssertNotEqual(r.status, 0)
        let lines = r.error.split(separator: "\n").filter { $0.contains("fxtrain") || $0.contains("rank") }
        XCTAssertEqual(lines.count, 1, r.error)
        XCTAssertTrue(lines.first?.contains("rank 1 (process \(rankOne) ") ?? false, r.error)
        XCTAssertTrue(lines.first?.contains("continue with --resume \(checkpoint)") ?? false, r.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/m.safetensors"))
        // The checkpoint continues, here in one process.
        let resumed = try fxtrain([data, "--out", directory + "/m.safetensors", "--resume", checkpoint, "--steps", "100000",
                                   "--minutes", "0.001"], tag: "resumed")
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming at step"), resumed.output)
        XCTAssertNoThrow(try ModelFile.load(path: directory + "/m.safetensors"))
    }

    /// mpirun's children are the ranks; each knows its rank from the environment.
    func rankProcess(_ rank: Int, of mpirun: Process) throws -> pid_t {
        try XCTUnwrap(children(of: mpirun.processIdentifier).first { pid in
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }
        }, "rank \(rank) not found among mpirun's children")
    }

    /// A machine lost (powered off, frozen, its network gone) leaves its rank's
    /// process alive but silent, as SIGSTOP does: the others would wait in
    /// the next exchange forever. The watchdog ends the job within seconds,
    /// with one line naming the rank, whether it is rank 1 (rank 0 speaks)
    /// or rank 0 (rank 1 speaks), and the checkpoint continues.
    func testStoppedRankEndsTheJobWithinSecondsNamingItAndTheCheckpointContinues() throws {
        let data = directory + "/data"
        for stopped in [1, 0] {
            let base = "\(directory)/m\(stopped)", checkpoint = base + ".checkpoint"
            let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe", "-np", "2", executable, "train", data,
                                           "--out", base + ".safetensors", "--steps", "1000000", "--checkpoint-minutes", "0.002"] + tiny,
                              tag: "stopped\(stopped)")
            let started = Date()
            while !FileManager.default.fileExists(atPath: checkpoint) && p.isRunning && Date().timeIntervalSince(started) < 30 { usleep(50_000) }
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint within 30 s")
            usleep(300_000)
            let pid = try rankProcess(stopped, of: p)
            kill(pid, SIGSTOP)
            // Whatever happens, the stopped process does not outlive the test.
            defer { kill(pid, SIGKILL) }
            let r = try finish(p, tag: "stopped\(stopped)", timeout: 60)
            XCTAssertLessThan(r.seconds, 30, "the job took \(r.seconds) s to end after rank \(stopped) stopped")
            XCTAssertNotEqual(r.status, 0)
            let lines = r.error.split(separator: "\n").filter { $0.contains("fxtrain") || $0.contains("rank") }
            XCTAssertEqual(lines.count, 1, r.error)
            let line = String(lines.first ?? "")
            XCTAssertTrue(line.hasPrefix("fxtrain: error: rank \(stopped) (process \(pid) ") && line.contains("stopped answering"), r.error)
            XCTAssertTrue(line.contains("continue with --resume \(checkpoint)"), r.error)
            XCTAssertFalse(FileManager.default.fileExists(atPath: base + ".safetensors"))
            let resumed = try fxtrain([data, "--resume", checkpoint, "--steps", "100000", "--minutes", "0.001"], tag: "resumed\(stopped)")
            XCTAssertEqual(resumed.status, 0, resumed.error)
            XCTAssertTrue(resumed.output.contains("resuming at step"), resumed.output)
            XCTAssertNoThrow(try ModelFile.load(path: base + ".safetensors"))
        }
    }

    /// Rank 1 reads its chunks from its own copy of the dataset while it
    /// trains; when that copy is cut short mid-run, rank 1 says so in the
    /// job's one line (rank 0, told, adds none of its own).
    func testDatasetCutShortOnOneRankMidRunIsOneLine() throws {
        let copy = directory + "/copy"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try writeClipperDataset(copy)
        let checkpoint = directory + "/m.checkpoint"
        let args = { (data: String) in ["-np", "1", self.executable, "train", data, "--out", self.directory + "/m.safetensors",
                                        "--steps", "1000000", "--checkpoint-minutes", "0.002"] + self.tiny }
        let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe"] + args(directory + "/data") + [":"] + args(copy),
                          tag: "cut")
        let started = Date()
        while !FileManager.default.fileExists(atPath: checkpoint) && p.isRunning && Date().timeIntervalSince(started) < 30 { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint within 30 s")
        for i in 0..<3 {
            for file in ["in\(i).wav", "out\(i).wav"] { XCTAssertEqual(truncate(copy + "/" + file, 100), 0) }
        }
        let r = try finish(p, tag: "cut", timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        let lines = r.error.split(separator: "\n").filter { $0.contains("fxtrain") || $0.contains("rank") }
        XCTAssertEqual(lines.count, 1, r.error)
        XCTAssertTrue(lines.first?.hasPrefix("fxtrain: error: rank 1: '\(copy)/") ?? false, r.error)
        XCTAssertTrue(lines.first?.hasSuffix("did it change during training?") ?? false, r.error)
    }

    func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // Fields after the command name: state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }
    }

    func testDatasetMissingOnOneRankIsOneClearLine() throws {
        let present = directory + "/data", absent = directory + "/elsewhere"
        let args = { (data: String) in ["-np", "1", self.executable, "train", data, "--out", self.directory + "/m.safetensors",
                                        "--steps", "3"] + self.tiny }
        let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe"] + args(present) + [":"] + args(absent), tag: "missing")
        let r = try finish(p, tag: "missing", timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.error.split(separator: "\n"), ["fxtrain: error: rank 1: dataset folder '\(absent)' does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/m.safetensors"))
    }

    /// MPI is required to build (rather than loaded at run time): set-up
    /// installs it, and the README says so plainly.
    func testSetUpInstallsOpenMPIAndTheREADMESaysItIsRequired() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // -n: the recipe with its package list, not run.
        p.arguments = ["make", "--no-print-directory", "-n", "-C", root.path, "setup"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let recipe = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let packages = try XCTUnwrap(recipe.components(separatedBy: "for p in ").dropFirst().first?.components(separatedBy: ";").first,
                                     recipe).split(separator: " ")
        XCTAssertTrue(packages.contains("openmpi-bin") && packages.contains("libopenmpi-dev"), "\(packages)")
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("Open MPI is required to build"), "README.md")
    }

    func testBadArgumentsAreOneLineFromAllRanks() throws {
        let r = try mpi(2, [directory + "/data", "--out", directory + "/m.safetensors", "--steps", "0"] + tiny, tag: "bad")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.error.split(separator: "\n"), ["fxtrain: error: --steps must be positive"])
    }

    func testMoreRanksThanBatchItemsIsRefused() throws {
        let r = try mpi(3, [directory + "/data", "--out", directory + "/m.safetensors", "--steps", "3"] + tiny(batch: 2), tag: "many")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.error.split(separator: "\n"),
                       ["fxtrain: error: 3 processes share a batch of 2: each needs at least one item; raise --batch or start fewer"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("m.") }, [])
    }

    func testDatasetDifferingOnOneRankIsRefused() throws {
        let copy = directory + "/copy"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try writeClipperDataset(copy)
        var x = try AudioFileReader(path: copy + "/out1.wav").readAll()[0]
        x[100] += 0.25
        try write(x, copy + "/out1.wav")
        let args = { (data: String) in ["-np", "1", self.executable, "train", data, "--out", self.directory + "/m.safetensors",
                                        "--steps", "3"] + self.tiny }
        let p = try start(try mpirun, ["-q", "--allow-run-as-root", "--oversubscribe"] + args(directory + "/data") + [":"] + args(copy),
                          tag: "differs")
        let r = try finish(p, tag: "differs", timeout: 30)
        XCTAssertNotEqual(r.status, 0)
        let lines = r.error.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.error)
        XCTAssertTrue(r.error.hasPrefix("fxtrain: error: rank 1: the dataset at '\(copy)' differs from rank 0's"), r.error)
    }
}
