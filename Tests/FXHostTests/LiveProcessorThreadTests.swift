import Foundation
import NeuralFXCore
import NeuralFXHost
import XCTest

/// The processor as fxhost runs it: an audio thread rendering periods and
/// applying MIDI while the control side, on another thread, moves knobs,
/// switches models, reads meters and collects what the audio thread hands
/// back. Under ThreadSanitizer (make test-sanitize) this is the check that the
/// lock-free paths between the two are free of data races.
final class LiveProcessorThreadTests: XCTestCase {
    let rate = 44100
    let period = 64

    func testControlAndAudioThreadsRunTogether() throws {
        let models = [try TestModels.model(TestModels.a), try TestModels.model(TestModels.b)]
        let map = MidiMap([1: "peak"])
        func engines(_ i: Int) throws -> EngineSet {
            try EngineSet(model: models[i % 2], channels: 1, streamRate: rate, maxBlockSize: period,
                      knobValues: ["peak": 0.4], inputGainDecibels: 0, outputGainDecibels: 0, midiMap: map)
        }
        let processor = LiveProcessor(initial: try engines(0), sampleRate: Double(rate))
        let periods = 4000
        let installs = 6
        let audioDone = DispatchSemaphore(value: 0)
        let input = testSignal(count: period, sampleRate: Double(rate))
        let result = AudioThreadResult()

        let audio = Thread { [period] in
            var output = [Float](repeating: 0, count: period)
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    for p in 0..<periods {
                        processor.inputs[0] = x.baseAddress!
                        processor.outputs[0] = y.baseAddress!
                        processor.beginCycle()
                        processor.render(offset: 0, frameCount: period / 2)
                        let cc: [UInt8] = [0xB0, 1, UInt8(p % 128)]
                        if let message = cc.withUnsafeBufferPointer({ MidiMessage.decode($0) }) { processor.apply(message) }
                        if p == periods / 2 { processor.apply(.programChange(3)) }
                        processor.render(offset: period / 2, frameCount: period / 2)
                        if y.contains(where: { !$0.isFinite }) { result.finite = false }
                    }
                }
            }
            audioDone.signal()
        }
        audio.start()

        var moves = 0, installed = 0, program: Int?
        var running = true
        while running {
            running = audioDone.wait(timeout: .now() + .milliseconds(2)) == .timedOut
            processor.setKnob(1, to: Double(moves % 2))
            processor.setBypass(moves % 7 == 3)
            if installed < installs, moves % 20 == 0, processor.install(try engines(installed + 1)) { installed += 1 }
            processor.collectRetired()
            moves += processor.takeKnobMoves().count
            program = processor.takeProgramChange() ?? program
            _ = processor.statistics.takeLevels()
            _ = processor.statistics.frames
        }
        // The audio thread is done (the semaphore orders its writes before
        // ours): play on here until the last queued model has faded in.
        var extra = 0
        input.withUnsafeBufferPointer { x in
            var output = [Float](repeating: 0, count: period)
            output.withUnsafeMutableBufferPointer { y in
                while !processor.isSettled && extra < 1000 {
                    processor.inputs[0] = x.baseAddress!
                    processor.outputs[0] = y.baseAddress!
                    processor.beginCycle()
                    processor.render(offset: 0, frameCount: period)
                    extra += 1
                }
            }
        }
        processor.collectRetired()

        XCTAssertTrue(result.finite)
        XCTAssertEqual(processor.statistics.frames, (periods + extra) * period)
        XCTAssertEqual(processor.statistics.midiMessagesReceived, periods + 1)
        XCTAssertEqual(program, 3)
        XCTAssertGreaterThan(moves, 0, "MIDI knob moves reach the control side")
        XCTAssertGreaterThan(installed, 0)
        XCTAssertTrue(processor.isSettled)
        XCTAssertEqual(processor.statistics.switches, installed, "every installed model is switched to, in turn")
    }
}

/// What the audio thread saw, read once it has finished.
private final class AudioThreadResult: @unchecked Sendable {
    var finite = true
}
