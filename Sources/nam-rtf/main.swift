import Foundation
import NeuralFXCore
import NeuralFXModelFiles

// Real-time factor of a model file: processing time / audio time on one
// thread, at a fixed block size, median of several runs over a guitar-like
// test signal. Reports wall-clock time and the thread's CPU time (the latter
// is what to compare on a machine shared with other work). Usage: nam-rtf MODEL [BLOCK=64] [SECONDS=10] [RUNS=7] [exact|fast]

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: nam-rtf MODEL [BLOCK=64] [SECONDS=10] [RUNS=7] [exact|fast]\n".utf8))
    exit(2)
}
let block = args.count > 2 ? Int(args[2]) ?? 64 : 64
let seconds = args.count > 3 ? Double(args[3]) ?? 10 : 10
let runs = args.count > 4 ? Int(args[4]) ?? 7 : 7
let model: EffectModel
do { model = try ModelFile.load(path: args[1]) } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
var blueprint = model.blueprint
let precision = args.count > 5 ? NAMActivationPrecision(rawValue: args[5]) ?? .fast : .fast
if let wave = blueprint as? NAMWaveNetBlueprint { blueprint = wave.with(precision: precision) }
if let lstm = blueprint as? NAMLSTMBlueprint { blueprint = lstm.with(precision: precision) }
let frames = Int(seconds * model.sampleRate)
var rng = SplitMix64(seed: 1)
let input: [Float] = (0..<frames).map { i in
    let t = Float(i) / Float(model.sampleRate)
    return 0.4 * sin(2 * .pi * 110 * t) * exp(-3 * (t.truncatingRemainder(dividingBy: 1))) + 0.01 * rng.nextFloat(in: -1...1)
}
var output = [Float](repeating: 0, count: frames)
let net = blueprint.makeNetwork()
net.prepare(maxBlockSize: block)
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
var times: [Double] = [], cpuTimes: [Double] = []
for _ in 0..<runs {
    net.reset()
    let cpuStart = threadCPUSeconds()
    let start = DispatchTime.now().uptimeNanoseconds
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            var at = 0
            while at + block <= frames {
                net.process(x.baseAddress! + at, y.baseAddress! + at, frameCount: block)
                at += block
            }
        }
    }
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / seconds)
    cpuTimes.append((threadCPUSeconds() - cpuStart) / seconds)
}
times.sort()
cpuTimes.sort()
print(String(format: "%@ (%@, %@ activations): block %d, %.0f Hz, %d runs of %.0f s: "
             + "RTF median %.5f (min %.5f, max %.5f); CPU-time RTF median %.5f (min %.5f)",
             model.name, blueprint.architectureName, precision.rawValue, block, model.sampleRate, runs, seconds,
             times[times.count / 2], times.first!, times.last!, cpuTimes[cpuTimes.count / 2], cpuTimes.first!))
