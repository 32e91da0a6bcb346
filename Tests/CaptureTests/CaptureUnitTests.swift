import Foundation
import NeuralFXCapture
import NeuralFXCore
import NeuralFXAudio
import NeuralFXDevices
import NeuralFXTraining
import XCTest

/// The pure parts of a capture: the signal, the calibration checks, knob
/// plans and the session folder.
final class CaptureUnitTests: XCTestCase {
    static let rate = 44100
    static let spec = try! CaptureSignalSpec(sampleRate: rate, seconds: 12, levelDBFS: -12)
    /// One setting's signal and the la2a's return for it (peak 0.5, limit), aligned.
    static let signal = CaptureSignal.make(spec, setting: 0)
    static let rendered: [Float] = deviceRender(signal.samples, knobs: ["peak": 0.5, "mode": 1])

    /// The return of gear that delays by `delay` samples and maybe inverts,
    /// recorded for `maxLatency` samples past the signal.
    func returned(delay: Int, inverted: Bool = false, gain: Float = 1, extra: Int = 8192) -> [Float] {
        var r = [Float](repeating: 0, count: Self.rendered.count + extra)
        for i in Self.rendered.indices { r[i + delay] = (inverted ? -gain : gain) * Self.rendered[i] }
        return r
    }

    func analyse(_ r: [Float], expected: Int? = nil) -> CalibrationResult {
        Calibration.analyse(sent: Self.signal.samples, returned: r, layout: Self.signal.layout, sampleRate: Self.rate,
                            maxLatency: 8192, expectedLatency: expected)
    }

    func testLatencyFromClicksToTheSampleWithPolarity() {
        for (n, delay) in [0, 1, 2, 17, 64, 129, 256, 300, 377, 499, 500].enumerated() {
            let inverted = n % 3 == 1
            let c = analyse(returned(delay: delay, inverted: inverted))
            XCTAssertEqual(c.latency, delay, "delay \(delay)")
            XCTAssertEqual(c.polarityInverted, inverted, "delay \(delay)")
            XCTAssertEqual(c.clickLatencies, [Int](repeating: delay, count: c.clickLatencies.count), "delay \(delay)")
            XCTAssertEqual(c.driftSamples, 0)
            XCTAssertEqual(c.problems, [], "delay \(delay)")
            XCTAssertEqual(inverted, c.notes.contains { $0.contains("polarity is inverted") })
            // The la2a at peak 0.5 is far from a wire but its return follows the send closely.
            XCTAssertGreaterThan(abs(c.correlation), 0.8)
            XCTAssertEqual(c.correlation < 0, inverted)
        }
    }

    func testAWireCorrelatesFully() {
        let s = Self.signal.samples
        let c = analyse(s + [Float](repeating: 0, count: 8192))
        XCTAssertEqual(c.latency, 0)
        XCTAssertEqual(c.correlation, 1, accuracy: 1e-9)
        XCTAssertEqual(c.problems, [])
    }

    func testAlignedReturnIsTheRender() {
        let r = returned(delay: 321, inverted: true)
        let c = analyse(r)
        let aligned = Calibration.aligned(r, latency: c.latency, inverted: c.polarityInverted, count: Self.signal.samples.count)
        XCTAssertEqual(aligned, Self.rendered)
    }

    /// A return on another clock, 150 ppm fast: its latency grows through the signal.
    func testDriftBetweenClocksIsFound() {
        let clean = returned(delay: 200)
        let ratio = 1.0 - 150e-6
        let drifted = (0..<clean.count).map { i -> Float in
            let x = Double(i) * ratio, j = Int(x), f = Float(x - Double(j))
            return j + 1 < clean.count ? clean[j] * (1 - f) + clean[j + 1] * f : 0
        }
        let c = analyse(drifted)
        XCTAssertGreaterThanOrEqual(c.driftSamples, 1, "\(c)")
        XCTAssertTrue(c.problems.contains { $0.contains("drifts") }, "\(c.problems)")
        XCTAssertEqual(analyse(clean).driftSamples, 0)
    }

    /// Two interfaces 400 ppm apart over a minute: the end clicks come back
    /// about a thousand samples later than the start clicks, and the figure says so.
    func testLargeDriftIsMeasured() throws {
        let spec = try CaptureSignalSpec(sampleRate: Self.rate, seconds: 60, levelDBFS: -12)
        let signal = CaptureSignal.make(spec, setting: 0)
        let ratio = 1.0 - 400e-6, delay = 150.0
        let drifted = (0..<(signal.samples.count + 8192)).map { i -> Float in
            let x = Double(i) * ratio - delay, j = Int(x.rounded(.down)), f = Float(x - Double(j))
            return j >= 0 && j + 1 < signal.samples.count ? signal.samples[j] * (1 - f) + signal.samples[j + 1] * f : 0
        }
        let c = Calibration.analyse(sent: signal.samples, returned: drifted, layout: signal.layout, sampleRate: Self.rate,
                                    maxLatency: 8192, expectedLatency: nil)
        let span = Double(signal.layout.endClicks[2] - signal.layout.startClicks[4])
        XCTAssertEqual(Double(c.driftSamples), span * 400e-6, accuracy: 3, "\(c)")
        XCTAssertEqual(c.driftPPM, 400, accuracy: 10)
        XCTAssertTrue(c.problems.contains { $0.contains("drifts") && $0.contains("different clocks") }, "\(c.problems)")
    }

    func testSilentReturn() {
        let c = analyse([Float](repeating: 0, count: Self.signal.samples.count + 8192))
        XCTAssertEqual(c.problems.count, 1)
        XCTAssertTrue(c.problems[0].contains("silent"), c.problems[0])
    }

    func testClippingReturn() {
        let c = analyse(returned(delay: 40, gain: 12).map { min(max($0, -1), 1) })
        XCTAssertTrue(c.problems.contains { $0.contains("clips") }, "\(c.problems)")
        XCTAssertGreaterThan(c.clippedSamples, 3)
    }

    func testLowReturnSuggestsAGain() throws {
        let c = analyse(returned(delay: 40, gain: 0.003))
        let line = try XCTUnwrap(c.problems.first { $0.contains("too low") }, "\(c.problems)")
        // Peak about -12 - 50 = -62 dBFS: about 50 dB to the -12 dBFS aim.
        let suggested = try XCTUnwrap(line.range(of: #"by about (\d+) dB"#, options: .regularExpression).map { Int(line[$0].split(separator: " ")[2])! })
        XCTAssertEqual(Double(suggested), Calibration.targetPeakDBFS - c.returnPeakDBFS, accuracy: 1)
        XCTAssertEqual(analyse(returned(delay: 40)).problems, [])
    }

    func testLatencyChangeAgainstTheSession() {
        XCTAssertTrue(analyse(returned(delay: 310), expected: 300).problems.contains { $0.contains("latency changed") })
        XCTAssertEqual(analyse(returned(delay: 300), expected: 300).problems, [])
    }

    func testLevelCeilingAndRamp() throws {
        for level in [-30.0, -12, -1] {
            let s = CaptureSignal.make(try CaptureSignalSpec(sampleRate: 48000, seconds: 15, levelDBFS: level), setting: 3)
            let ceiling = Float(pow(10, level / 20))
            XCTAssertLessThanOrEqual(s.samples.map(abs).max()!, ceiling)
            // The program's loudest segments reach the level (within 6 dB).
            XCTAssertGreaterThan(s.samples[s.layout.program].map(abs).max()!, ceiling / 2)
            // It starts 40 dB down and rises.
            let rampStart = s.samples[s.layout.ramp.prefix(4800)].map(abs).max()!
            XCTAssertLessThan(rampStart, ceiling * 0.013)
            XCTAssertEqual(s.samples.count, 15 * 48000, accuracy: 48)
        }
        for bad in [0.0, -0.5, 6, -61, .nan] {
            XCTAssertThrowsError(try CaptureSignalSpec(sampleRate: 44100, seconds: 20, levelDBFS: bad))
        }
        XCTAssertThrowsError(try CaptureSignalSpec(sampleRate: 44100, seconds: 5, levelDBFS: -12))
        // Settings differ in program material, not in calibration.
        let a = CaptureSignal.make(Self.spec, setting: 0), b = CaptureSignal.make(Self.spec, setting: 1)
        XCTAssertEqual(a.samples[..<a.layout.sweep.upperBound], b.samples[..<b.layout.sweep.upperBound])
        XCTAssertNotEqual(a.samples[a.layout.program], b.samples[b.layout.program])
    }

    func testGridPlan() throws {
        let plan = try KnobPlan.parseGrid("peak=0,0.5,1 mode=compress,limit")
        XCTAssertEqual(plan.settings, [[0, 0], [0.5, 0], [1, 0], [1, 1], [0.5, 1], [0, 1]])
        XCTAssertEqual(plan.describe(setting: 3), "PEAK to 1, MODE to limit")
        XCTAssertEqual(plan.knobValues(setting: 4), ["peak": 0.5, "mode": 1])
        XCTAssertEqual(plan.environment(setting: 4)["NFX_KNOB_MODE"], "limit")
        XCTAssertEqual(plan.heldOut, [3])
        XCTAssertEqual(try KnobPlan.parseGrid("a=1,2,3,4").heldOut, [])
        XCTAssertEqual(try KnobPlan.parseGrid("a=0,1,2,3,4,5,6,7,8,9,10").heldOut, [2, 8])
        XCTAssertEqual(plan.schema.knobs.map(\.name), ["peak", "mode"])
        XCTAssertNil(plan.schema.inconsistency(conditioningSize: 2))
        for (text, why) in [("peak", "NAME=VALUE"), ("peak=0,x", "mixes"), ("peak=1", "two different"), ("peak=0,1 peak=0,1", "twice"),
                            ("", "at least one knob"), ("mode=a,a", "twice"), ("peak=0,,1", "empty value"),
                            ("a=0,1,2,3,4,5,6,7,8,9 b=0,1,2,3,4,5,6,7,8,9 c=0,1,2,3,4,5,6,7,8,9 d=0,1", "more than 1000 settings")] {
            XCTAssertThrowsError(try KnobPlan.parseGrid(text), text) { XCTAssertTrue("\($0)".contains(why), "\(text): \($0)") }
        }
    }

    func testPlanFile() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/plan.json"
        try #"""
        { "knobs": [ { "name": "drive", "label": "Drive", "values": [0, 1] }, { "name": "tone", "positions": ["dark", "bright"] } ],
          "settings": [ { "drive": 0.5, "tone": "bright" }, { "drive": 1, "tone": 0 } ],
          "command": "true", "settle_seconds": 0.5 }
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        let plan = try KnobPlan.load(path: path)
        XCTAssertEqual(plan.settings, [[0.5, 1], [1, 0]])
        XCTAssertEqual(plan.describe(setting: 0), "DRIVE to 0.5, TONE to bright")
        XCTAssertEqual(plan.command, "true")
        XCTAssertEqual(plan.settleSeconds, 0.5)
        // The schema spans every value a setting uses.
        XCTAssertEqual(plan.schema.knobs[0].minimum, 0)
        XCTAssertEqual(plan.schema.knobs[0].maximum, 1)
        // A knob without values takes them from the settings.
        try #"{ "knobs": [ { "name": "gain" } ], "settings": [ { "gain": 2 }, { "gain": 7 }, { "gain": 2.5 } ] }"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let listed = try KnobPlan.load(path: path)
        XCTAssertEqual(listed.knobs[0].values, [2, 7, 2.5])
        XCTAssertEqual(listed.schema.knobs[0].minimum, 2)
        XCTAssertEqual(listed.schema.knobs[0].maximum, 7)
        XCTAssertEqual(try JSONDecoder().decode(KnobPlan.self, from: JSONEncoder().encode(listed)), listed)
        try #"""
        { "knobs": [ { "name": "drive", "label": "Drive", "values": [0, 1] }, { "name": "tone", "positions": ["dark", "bright"] } ],
          "settings": [ { "drive": 0.5, "tone": "bright" }, { "drive": 1, "tone": 0 } ],
          "command": "true", "settle_seconds": 0.5 }
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        // Encoded and read back, a plan is the same plan (the session stores it).
        XCTAssertEqual(try JSONDecoder().decode(KnobPlan.self, from: JSONEncoder().encode(plan)), plan)
        for (text, why) in [(#"{"knobs":[{"name":"t","positions":["a","b"]}],"settings":[{"t":"c"}]}"#, "not a position"),
                            (#"{"knobs":[{"name":"t","positions":["a","b"]}],"settings":[{}]}"#, "no value"),
                            (#"{"knobs":[{"name":"t","positions":["a","b"]}],"settings":[{"t":"a","u":1}]}"#, "do not list"),
                            (#"{"knobs":[{"name":"d","values":[0,1]}],"settings":[{"d":"x"}]}"#, "takes a number"),
                            (#"{"knobs":"#, "not a valid plan")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try KnobPlan.load(path: path)) { XCTAssertTrue("\($0)".contains(why), "\(text): \($0)") }
        }
        XCTAssertThrowsError(try KnobPlan.load(path: dir + "/missing.json")) { XCTAssertTrue("\($0)".contains("cannot read")) }
    }

    func testSessionResumesAndWritesANativeDataset() throws {
        let dir = try temporaryDirectory() + "/data"
        let plan = try KnobPlan.parseGrid("peak=0,0.5,1 mode=compress,limit")
        var session = try CaptureSession.open(directory: dir, plan: plan, signal: Self.spec, interface: "test")
        XCTAssertEqual(session.remaining, [0, 1, 2, 3, 4, 5])
        let c = analyse(returned(delay: 300, inverted: true))
        try session.record(setting: 3, input: Self.signal.samples, target: Self.rendered, calibration: c)
        try session.record(setting: 0, input: Self.signal.samples, target: Self.rendered, calibration: c)

        // Resumed: only the rest is asked for, and the latency is the session's.
        let resumed = try CaptureSession.open(directory: dir, plan: plan, signal: Self.spec, interface: "test")
        XCTAssertEqual(resumed.remaining, [1, 2, 4, 5])
        XCTAssertEqual(resumed.latency, 300)
        XCTAssertEqual(resumed.captured.map(\.calibration), [c, c])

        // fxtrain train's reader takes the manifest: knobs, pairs, the held-out split.
        let contents = try NativeManifest.parse(try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")), path: "manifest.json")
        XCTAssertEqual(contents.sampleRate, Self.rate)
        XCTAssertEqual(contents.knobNames, ["peak", "mode"])
        XCTAssertEqual(contents.pairs.map(\.knobValues), [[0, 0], [1, 1]])
        XCTAssertEqual(plan.heldOut, [3])
        XCTAssertEqual(contents.pairs.map(\.split), [.train, .test])
        XCTAssertEqual(try readMono(dir + "/" + contents.pairs[1].target), Self.rendered)

        // Another plan or signal does not resume this folder.
        XCTAssertThrowsError(try CaptureSession.open(directory: dir, plan: try KnobPlan.parseGrid("peak=0,0.5,1"), signal: Self.spec, interface: "t")) {
            XCTAssertTrue("\($0)".contains("other knob settings"), "\($0)")
        }
        let other = try CaptureSignalSpec(sampleRate: Self.rate, seconds: 13, levelDBFS: -12)
        XCTAssertThrowsError(try CaptureSession.open(directory: dir, plan: plan, signal: other, interface: "t")) {
            XCTAssertTrue("\($0)".contains("--seconds 12"), "\($0)")
        }
        // A setting whose file went missing is captured again.
        try FileManager.default.removeItem(atPath: dir + "/target/004.wav")
        let damaged = try CaptureSession.open(directory: dir, plan: plan, signal: Self.spec, interface: "test")
        XCTAssertEqual(damaged.remaining, [1, 2, 3, 4, 5])
        XCTAssertEqual(damaged.notes.count, 1)
        // A folder that is not a session is left alone.
        let foreign = try temporaryDirectory()
        try "x".write(toFile: foreign + "/notes.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CaptureSession.open(directory: foreign, plan: plan, signal: Self.spec, interface: "t"))
    }
}

/// The la2a simulation's output for `input` from a fresh unit.
func deviceRender(_ input: [Float], knobs: [String: Double]) -> [Float] {
    let device = OpticalCompressor(sampleRate: 44100)
    for (name, value) in knobs { device.setKnob(named: name, to: value) }
    return device.alignedOutput(input)
}

func readMono(_ path: String) throws -> [Float] {
    try AudioFileReader(path: path).readAll()[0]
}

func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nfx-capture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
