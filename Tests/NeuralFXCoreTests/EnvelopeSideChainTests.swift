import Foundation
import XCTest
import NeuralFXCore

final class EnvelopeSideChainTests: XCTestCase {
    func envelopeModel(seed: UInt64, silenceReferenced: Bool = false) -> MicroTCNWeights {
        var config = MicroTCNConfig.named("utcn-100-c-env", nparams: 2)!
        config.silenceReferenced = silenceReferenced
        return MicroTCNWeights.random(config, seed: seed)
    }

    /// A loud burst that ended long before the receptive field still changes
    /// the output with envelopes, and not at all without them.
    func testEnvelopesRememberBeyondTheReceptiveField() {
        let burst = testSignal(20000, seed: 3).map { $0 * 4 }
        let gap = [Float](repeating: 0, count: 3 * MicroTCNConfig.named("utcn-100-c", nparams: 2)!.receptiveField)
        let probe = testSignal(2000, seed: 4)
        for (name, remembers) in [("utcn-100-c", false), ("utcn-100-c-env", true)] {
            let net = MicroTCNWeights.random(MicroTCNConfig.named(name, nparams: 2)!, seed: 21).makeNetwork()
            net.prepare(maxBlockSize: 512)
            net.setConditioning([0.5, 0.5])
            net.reset()
            let heard = burst + gap + probe
            let after = Array(stream(net, heard, blocks: randomBlocks(total: heard.count, maxBlock: 512, seed: 1)).suffix(probe.count))
            net.reset()
            let fresh = Array(stream(net, gap + probe, blocks: randomBlocks(total: gap.count + probe.count, maxBlock: 512, seed: 2))
                .suffix(probe.count))
            if remembers {
                XCTAssertGreaterThan(maxAbsDifference(after, fresh), 1e-3, name)
            } else {
                XCTAssertEqual(maxAbsDifference(after, fresh), 0, name)
            }
        }
    }

    /// Longer signals than the streaming-equality test's (several chunks of
    /// 256 frames), at block sizes that do not divide them.
    func testEnvelopeModelStreamsExactlyOverManyChunks() {
        let weights = envelopeModel(seed: 31, silenceReferenced: true)
        let x = testSignal(9000, seed: 9)
        let whole = weights.makeNetwork()
        whole.prepare(maxBlockSize: x.count)
        whole.setConditioning([1, 0.7])
        let reference = stream(whole, x, blocks: [x.count])
        for (trial, maxBlock) in [1, 63, 256, 1000].enumerated() {
            let net = weights.makeNetwork()
            net.prepare(maxBlockSize: maxBlock)
            net.setConditioning([1, 0.7])
            let y = stream(net, x, blocks: randomBlocks(total: x.count, maxBlock: maxBlock, seed: UInt64(trial)))
            XCTAssertEqual(maxAbsDifference(y, reference), 0, "max block \(maxBlock)")
        }
    }

    /// Silence referencing cancels the side-chain's contribution at silence too:
    /// silence in, silence out, from the first sample and after a reset.
    func testSilenceGivesSilenceWithEnvelopes() {
        let net = envelopeModel(seed: 8, silenceReferenced: true).makeNetwork()
        net.prepare(maxBlockSize: 300)
        net.setConditioning([0, 0.9])
        net.reset()
        let silence = [Float](repeating: 0, count: 6000)
        XCTAssertLessThan(stream(net, silence, blocks: [Int](repeating: 300, count: 20)).map(abs).max()!, 1e-6)
        _ = stream(net, testSignal(3000), blocks: [Int](repeating: 300, count: 10))
        net.reset()
        XCTAssertLessThan(stream(net, silence, blocks: [Int](repeating: 300, count: 20)).map(abs).max()!, 1e-6)
    }

    /// `exp(θ)` is the time constant in samples: a unit step in power
    /// reaches 1 - 1/e of its level after that many samples.
    func testLogTimeConstantIsTheTimeConstant() {
        let (a, g) = EnvelopeSideChain.coefficients(logTimeConstant: log(1000.0))
        XCTAssertEqual(a + g, 1, accuracy: 1e-15)
        var e = 0.0
        for _ in 0..<1000 { e = a * e + g }
        XCTAssertEqual(e, 1 - exp(-1.0), accuracy: 1e-3)
        // Seconds at 48 kHz keep 1 - a accurate in Float.
        let slow = EnvelopeSideChain.coefficients(logTimeConstant: log(Float(3 * 48000)))
        XCTAssertEqual(Double(slow.gain) * 3 * 48000, 1, accuracy: 1e-5)
        XCTAssertEqual(EnvelopeWeights.spreadTimeConstants(count: 6, sampleRate: 48000).map { exp(Double($0)) / 48000 },
                       [0.01, 0.0313, 0.0979, 0.3064, 0.9587, 3], accuracy: 0.001)
    }

    func testConfigurationNamesAndLimits() throws {
        let c = MicroTCNConfig.named("UTCN-100-C-ENV", nparams: 2)!
        XCTAssertEqual(c.envelopes, MicroTCNConfig.defaultEnvelopes)
        XCTAssertEqual(c.receptiveField, MicroTCNConfig.named("utcn-100-c", nparams: 2)!.receptiveField)
        XCTAssertNil(MicroTCNConfig.named("nonsense-env", nparams: 2))
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        XCTAssertTrue(json.contains("\"envelope_channels\":6"))
        XCTAssertEqual(try JSONDecoder().decode(MicroTCNConfig.self, from: Data(json.utf8)), c)
        // Models without envelopes keep micro-tcn's configuration text.
        let plain = String(decoding: try JSONEncoder().encode(MicroTCNConfig.named("utcn-100-c", nparams: 2)!), as: UTF8.self)
        XCTAssertFalse(plain.contains("envelope"))
        var bad = c
        bad.envelopeChannels = 65
        XCTAssertEqual(bad.unsupportedReason, "envelope_channels 65 is outside 0...64")
        bad.envelopeChannels = 2
        bad.grouped = true
        XCTAssertEqual(bad.unsupportedReason, "envelope_channels does not combine with grouped convolutions")
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
