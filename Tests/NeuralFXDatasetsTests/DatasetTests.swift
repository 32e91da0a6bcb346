import Foundation
import NeuralFXAudio
import NeuralFXCore
import NeuralFXDatasets
import NeuralFXDevices
import XCTest

final class DatasetTests: XCTestCase {
    private var folders: [URL] = []

    override func tearDown() {
        for f in folders { try? FileManager.default.removeItem(at: f) }
        folders = []
    }

    private func temporaryFolder() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("nfx-dataset-\(UInt64.random(in: 0...UInt64.max))")
        folders.append(url)
        folders.append(URL(fileURLWithPath: url.path + ".partial"))
        return url
    }

    private func render(_ spec: DatasetSpec, to folder: URL) throws -> DatasetManifest {
        let plan = try DatasetPlan(spec)
        try DatasetRenderer(plan: plan, material: DryMaterial(), writer: DatasetFileWriter()).render(to: folder.path)
        return try DatasetManifest.load(from: folder.appendingPathComponent(DatasetManifest.fileName).path)
    }

    private func bytes(of folder: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!
        for case let url as URL in e where !url.hasDirectoryPath {
            result[String(url.path.dropFirst(folder.path.count))] = try Data(contentsOf: url)
        }
        return result
    }

    func testSameSeedGivesTheSameBytes() throws {
        for device in DeviceKind.allCases {
            var spec = DatasetSpec(device: device, minutes: 0.2, seed: 7, sampling: .random)
            spec.pairSeconds = 4
            let a = temporaryFolder(), b = temporaryFolder(), c = temporaryFolder()
            _ = try render(spec, to: a)
            // A second apart, so anything stamped with the time of writing
            // (a WAV PEAK chunk, say) would show.
            Thread.sleep(forTimeInterval: 1.1)
            _ = try render(spec, to: b)
            spec.seed = 8
            _ = try render(spec, to: c)
            let first = try bytes(of: a), second = try bytes(of: b), other = try bytes(of: c)
            XCTAssertEqual(first.count, 2 * 3 + 1, "three pairs and the manifest")
            XCTAssertEqual(first, second, "\(device)")
            XCTAssertNotEqual(first.filter { $0.key.hasSuffix(".wav") }.values.sorted { $0.count < $1.count },
                              other.filter { $0.key.hasSuffix(".wav") }.values.sorted { $0.count < $1.count })
        }
    }

    func testNativeManifestListsEveryPairWithKnobsAndSplits() throws {
        var spec = DatasetSpec(device: .overdrive, minutes: 0.5, seed: 3, sampling: .random)
        spec.pairSeconds = 3
        let folder = temporaryFolder()
        let manifest = try render(spec, to: folder)
        XCTAssertEqual(manifest.device, "overdrive")
        XCTAssertEqual(manifest.sampleRate, 44_100)
        XCTAssertEqual(manifest.knobSchema, Overdrive.knobSchema)
        XCTAssertEqual(manifest.pairs.count, 10)
        XCTAssertEqual(Set(manifest.pairs.map(\.split)), Set(DatasetSplit.allCases))
        for pair in manifest.pairs {
            XCTAssertEqual(Set(pair.knobs.keys), ["drive", "tone", "level"])
            for path in [pair.input, pair.target] {
                XCTAssertTrue(path.hasPrefix(pair.split.rawValue + "/"), path)
                let file = try AudioFileReader(path: folder.appendingPathComponent(path).path)
                XCTAssertEqual(file.sampleRate, 44_100)
                XCTAssertEqual(file.channels, 1)
                XCTAssertEqual(file.container, .wav)
                XCTAssertEqual(file.sampleFormat, .float)
                XCTAssertEqual(Int(file.frames), pair.frames, path)
            }
        }
    }

    func testFixedSettingPutsEveryPairAtIt() throws {
        var spec = DatasetSpec(device: .overdrive, minutes: 1, seed: 3)
        spec.fixedSetting = [0.8, 0.5, 1]
        let plan = try DatasetPlan(spec)
        XCTAssertEqual(plan.pairs.count, 3, "20 s pairs, not shortened to cover a grid")
        XCTAssertTrue(plan.pairs.allSatisfy { $0.knobValues == [0.8, 0.5, 1] })
        XCTAssertEqual(DatasetManifest(plan: plan).sampling, "fixed")
    }

    func testFilesHoldTheRenderedPairWithTheTargetAlignedToTheInput() throws {
        var spec = DatasetSpec(device: .overdrive, minutes: 0.1, seed: 5, sampling: .random)
        spec.pairSeconds = 3
        let plan = try DatasetPlan(spec)
        let folder = temporaryFolder()
        _ = try render(spec, to: folder)
        let pair = plan.pairs[0]
        let expected = DatasetRenderer(plan: plan, material: DryMaterial(), writer: DatasetFileWriter()).renderPair(pair)
        let files = plan.files(for: pair)
        let input = try AudioFileReader(path: folder.appendingPathComponent(files.input).path).readAll()[0]
        let target = try AudioFileReader(path: folder.appendingPathComponent(files.target).path).readAll()[0]
        XCTAssertEqual(input, expected.input)
        XCTAssertEqual(target, expected.target)
        // Latency removed: the target is what the device makes of the input,
        // advanced by the device's latency.
        let device = DeviceKind.overdrive.make()
        for (i, v) in pair.knobValues.enumerated() { device.setKnob(i, to: v) }
        var direct = [Float](repeating: 0, count: input.count)
        device.process(input, &direct, frameCount: input.count)
        XCTAssertEqual(Array(target[..<(input.count - device.latency)]), Array(direct[device.latency...]))
    }

    func testExampleClipsAreReadAsMonoAtTheDatasetRate() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let frames = 4_800
        let left = (0..<frames).map { Float(sin(Double($0) * 0.05)) * 0.5 }
        let writer = try AudioFileWriter(path: folder.appendingPathComponent("b-stereo.wav").path, sampleRate: 48_000,
                                         channels: 2, sampleFormat: .float)
        let silence = [Float](repeating: 0, count: frames)
        try left.withUnsafeBufferPointer { l in
            try silence.withUnsafeBufferPointer { r in try writer.write([l.baseAddress!, r.baseAddress!], frames: frames) }
        }
        try writer.finish()
        try DatasetFileWriter().writeMonoFloatWAV(left, sampleRate: 44_100, to: folder.appendingPathComponent("a-mono.wav").path)
        try Data("not audio".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let clips = try ExampleClips.load(folder: folder.path, sampleRate: 44_100)
        XCTAssertEqual(clips.map(\.name), ["a-mono.wav", "b-stereo.wav"])
        XCTAssertEqual(clips[0].samples, left)
        XCTAssertEqual(clips[1].samples.count, 4_410)
        // Stereo averaged to mono: half the left channel's level.
        let peak = clips[1].samples.reduce(Float(0)) { max($0, abs($1)) }
        XCTAssertEqual(peak, 0.25, accuracy: 0.01)
    }

    func testSignalTrainLayoutNamesFilesAsItsLoadersExpect() throws {
        var spec = DatasetSpec(device: .la2a, minutes: 1, seed: 11, sampling: .random, layout: .signaltrain)
        spec.pairSeconds = 2
        let folder = temporaryFolder()
        let manifest = try render(spec, to: folder)
        let input = try NSRegularExpression(pattern: #"^input_(\d{3,})_\.wav$"#)
        let target = try NSRegularExpression(pattern: #"^target_(\d{3,})_LA2A_NFX__([01])__(\d{1,3})\.wav$"#)
        for (split, subfolder) in [(DatasetSplit.train, "Train"), (.validation, "Val"), (.test, "Test")] {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(subfolder).path)
            let inputs = names.filter { $0.hasPrefix("input_") }.sorted()
            let targets = names.filter { $0.hasPrefix("target_") }.sorted()
            XCTAssertEqual(inputs.count + targets.count, names.count)
            XCTAssertEqual(inputs.count, manifest.pairs.filter { $0.split == split }.count)
            XCTAssertGreaterThan(inputs.count, 0, subfolder)
            // SignalTrain loaders pair the sorted lists by position and read
            // the id as the second "_" field and the controls as "__" fields.
            for (i, t) in zip(inputs, targets) {
                XCTAssertNotNil(input.firstMatch(in: i, range: NSRange(i.startIndex..., in: i)), i)
                XCTAssertNotNil(target.firstMatch(in: t, range: NSRange(t.startIndex..., in: t)), t)
                XCTAssertEqual(i.split(separator: "_")[1], t.split(separator: "_")[1])
                let controls = t.replacingOccurrences(of: ".wav", with: "").components(separatedBy: "__")
                let pair = manifest.pairs.first { $0.target == "\(subfolder)/\(t)" }!
                XCTAssertEqual(Double(controls[1]), pair.knobs["mode"])
                XCTAssertEqual(Double(controls[2]), (pair.knobs["peak"]! * 100).rounded())
                XCTAssertEqual(pair.knobs["peak"]! * 100, (pair.knobs["peak"]! * 100).rounded(), accuracy: 1e-9)
            }
        }
    }

    func testGridCoversEveryCompressorSetting() throws {
        let plan = try DatasetPlan(DatasetSpec(device: .la2a, minutes: 30, seed: 1, sampling: .grid, layout: .signaltrain))
        let settings = Set(plan.pairs.map { plan.files(for: $0).target.components(separatedBy: "__").dropFirst().joined() })
        XCTAssertEqual(settings.count, 42, "21 peak steps in both modes")
        XCTAssertEqual(plan.pairs.count, 90)
    }

    func testRefusesAFolderThatIsNotEmpty() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let precious = folder.appendingPathComponent("mix.wav")
        try Data("keep me".utf8).write(to: precious)
        let spec = DatasetSpec(device: .la2a, minutes: 0.05, seed: 1)
        XCTAssertThrowsError(try render(spec, to: folder)) { error in
            XCTAssertEqual(error as? DatasetError, .outputNotEmpty(folder.path))
        }
        XCTAssertEqual(try Data(contentsOf: precious), Data("keep me".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path + ".partial"))
    }

    func testSignalTrainLayoutIsOnlyForTheCompressor() {
        XCTAssertThrowsError(try DatasetPlan(DatasetSpec(device: .overdrive, minutes: 1, seed: 1, layout: .signaltrain))) {
            XCTAssertEqual($0 as? DatasetError, .layoutNeedsCompressor(.overdrive))
        }
        XCTAssertThrowsError(try DatasetPlan(DatasetSpec(device: .la2a, minutes: 0, seed: 1)))
    }

    func testManifestWithOutOfRangeKnobIsRejected() throws {
        let folder = temporaryFolder()
        _ = try render(DatasetSpec(device: .la2a, minutes: 0.05, seed: 2), to: folder)
        let path = folder.appendingPathComponent(DatasetManifest.fileName).path
        var manifest = try DatasetManifest.load(from: path)
        manifest.pairs[0].knobs["peak"] = 1.5
        try manifest.encoded().write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try DatasetManifest.load(from: path))
    }
}
