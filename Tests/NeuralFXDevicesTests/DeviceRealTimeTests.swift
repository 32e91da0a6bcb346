import CAllocationCounter
import NeuralFXDevices
import XCTest

/// The devices allocate nothing while processing or turning knobs, so they
/// can also run inside an audio callback.
final class DeviceRealTimeTests: XCTestCase {
    func testProcessingAndKnobChangesDoNotAllocate() {
        let input = Bench.sine(hertz: 441, level: -6, seconds: 0.1)
        var output = [Float](repeating: 0, count: input.count)
        for kind in DeviceKind.allCases {
            let device = kind.make()
            let knobCount = device.knobs.count
            input.withUnsafeBufferPointer { i in
                output.withUnsafeMutableBufferPointer { o in
                    device.process(i.baseAddress!, o.baseAddress!, frameCount: 512)
                    nfx_allocation_counting_begin()
                    for k in 0..<knobCount { device.setKnob(k, to: 1) }
                    device.process(i.baseAddress!, o.baseAddress!, frameCount: input.count)
                    device.reset()
                    let seen = nfx_allocation_counting_end()
                    XCTAssertEqual(seen, 0, "\(kind)")
                }
            }
        }
    }
}
