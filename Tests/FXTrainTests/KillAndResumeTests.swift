import Foundation
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXTraining
import XCTest

/// fxtrain killed with SIGKILL at random moments, checkpoint writes
/// included, and resumed from the checkpoint alone, ends with exactly the
/// model of an uninterrupted run; nothing it leaves is ever corrupt.
extension FXTrainCommandTests {
    var shortRun: [String] {
        ["--arch", "utcn-100-c", "--channels", "8", "--batch", "2", "--chunk", "1024", "--val-every", "10",
         "--eval-seconds", "1", "--threads", "1"]
    }

    /// Starts fxtrain and kills it after `seconds`; true if it ended by itself first.
    func runKilled(_ arguments: [String], after seconds: Double) throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(2_000) }
        let finished = !p.isRunning
        if !finished { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        return finished
    }

    func temporaries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".tmp") }
    }

    func testKilledAtRandomMomentsAndResumedFromTheCheckpointAloneGivesTheUninterruptedModel() throws {
        try writeClipperDataset()
        let steps = "200"
        let reference = try run([directory, "--out", directory + "/reference.safetensors", "--steps", steps] + shortRun)
        XCTAssertEqual(reference.status, 0, reference.error)

        let model = directory + "/model.safetensors", checkpoint = directory + "/model.checkpoint"
        // A checkpoint after every step: much of the time goes into writing
        // them, so random kills land inside writes too.
        var arguments = [directory, "--out", model, "--steps", steps, "--checkpoint-minutes", "0.00001"] + shortRun
        var random = SplitMix64(seed: 2024)
        var lastStep = 0, kills = 0
        while kills < 5 {
            let delay = 0.2 + 0.6 * Double(random.nextFloat(in: 0...1))
            if try runKilled(arguments, after: delay) {
                return XCTFail("the run finished before it could be killed \(5 - kills) more times: give it more steps")
            }
            kills += 1
            XCTAssertFalse(FileManager.default.fileExists(atPath: model), "a killed run left a model file")
            if FileManager.default.fileExists(atPath: checkpoint) {
                let saved = try Checkpoint.read(from: checkpoint)
                XCTAssertGreaterThanOrEqual(saved.step, lastStep, "the checkpoint went back")
                lastStep = saved.step
                // From here on: the checkpoint alone.
                arguments = ["--resume", checkpoint]
            }
        }
        XCTAssertGreaterThan(kills, 0, "no run was killed")
        XCTAssertGreaterThan(lastStep, 0, "no checkpoint was ever saved")
        // What a kill inside a checkpoint write leaves, whether or not a random
        // kill above hit one: the previous checkpoint (rename is atomic) and a
        // partial temporary of a writer that is gone.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let partial = try Data(contentsOf: URL(fileURLWithPath: checkpoint)).prefix(100)
        try partial.write(to: URL(fileURLWithPath: directory + "/.model.checkpoint.\(gone.processIdentifier).tmp"))
        let finished = try run(arguments)
        XCTAssertEqual(finished.status, 0, finished.error)
        XCTAssertTrue(finished.output.contains("until --steps \(steps)"), finished.output)
        let a = try XCTUnwrap(try ModelFile.load(path: model).blueprint as? MicroTCNWeights)
        let b = try XCTUnwrap(try ModelFile.load(path: directory + "/reference.safetensors").blueprint as? MicroTCNWeights)
        XCTAssertEqual(a, b, "resumed \(kills) times, the model differs from the uninterrupted run's")
        XCTAssertEqual(try temporaries(), [], "temporary files left behind")
    }

    func testResumeFromTheCheckpointAloneAndWhatIsGivenAgainOverrides() throws {
        try writeClipperDataset()
        let model = directory + "/model.safetensors"
        XCTAssertEqual(try run([directory, "--out", model, "--steps", "4"] + shortRun).status, 0)
        // Continue elsewhere, further: both given again, both said.
        let resumed = try run(["--resume", directory + "/model.checkpoint", "--out", directory + "/longer.safetensors", "--steps", "6"])
        XCTAssertEqual(resumed.status, 0, resumed.error)
        XCTAssertTrue(resumed.output.contains("resuming at step 4"), resumed.output)
        XCTAssertTrue(resumed.output.contains("overriding the checkpoint: --out \(directory)/longer.safetensors (the checkpoint has \(model))"),
                      resumed.output)
        XCTAssertTrue(resumed.output.contains("overriding the checkpoint: --steps 6 (the checkpoint has --steps 4)"), resumed.output)
        XCTAssertTrue(resumed.output.contains("at step 6"), resumed.output)
        // Weighting the settings from a resumed run on: said and kept
        // (the trainer's own test checks what it resets).
        let weighted = try run(["--resume", directory + "/longer.checkpoint", "--out", directory + "/weighted.safetensors",
                                "--steps", "8", "--weight-settings"])
        XCTAssertEqual(weighted.status, 0, weighted.error)
        XCTAssertTrue(weighted.output.contains("overriding the checkpoint: --weight-settings"), weighted.output)
        XCTAssertEqual(try Checkpoint.read(from: directory + "/weighted.checkpoint").settings.weightSettings, true)
        // The finished run's model is not replaced silently.
        let again = try run(["--resume", directory + "/model.checkpoint"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.error.contains("already exists"), again.error)
        // Without --resume the dataset, output and stopping point are required.
        for missing in [["--out", model, "--steps", "2"], [directory, "--steps", "2"], [directory, "--out", model]] {
            XCTAssertNotEqual(try run(missing).status, 0, "\(missing)")
        }
    }
}
