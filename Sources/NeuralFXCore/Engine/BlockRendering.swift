/// Runs a whole signal through a streaming processor `blockSize` frames at a
/// time (the last block may be shorter) and returns the output. Offline
/// callers (evaluation, training checks, reference devices) share it, so a
/// signal is always cut into blocks the same way.
public func renderInBlocks(_ input: [Float], blockSize: Int,
                           _ process: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
    precondition(blockSize > 0)
    var output = [Float](repeating: 0, count: input.count)
    input.withUnsafeBufferPointer { i in
        output.withUnsafeMutableBufferPointer { o in
            var start = 0
            while start < input.count {
                let n = min(blockSize, input.count - start)
                process(i.baseAddress! + start, o.baseAddress! + start, n)
                start += n
            }
        }
    }
    return output
}
