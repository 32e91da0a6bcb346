/// A 1x1 convolution (a per-frame linear map across channels), grouped or
/// depthwise, with optional bias. Weights in PyTorch's `[out, in / groups, 1]`
/// layout.
public final class PointwiseConv {
    public let inChannels: Int
    public let outChannels: Int
    public let groups: Int
    /// Dense: `[in][out]`. Grouped: PyTorch order `[out][in / groups]`.
    let weights: FloatBuffer
    let bias: FloatBuffer?

    public init(inChannels: Int, outChannels: Int, groups: Int = 1, weights: [Float], bias: [Float]? = nil) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels must divide into groups")
        precondition(weights.count == outChannels * (inChannels / groups), "weight count does not match shape")
        precondition(bias == nil || bias!.count == outChannels)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.groups = groups
        if groups == 1 {
            let packed = FloatBuffer(count: weights.count)
            for o in 0..<outChannels { for i in 0..<inChannels { packed[i * outChannels + o] = weights[o * inChannels + i] } }
            self.weights = packed
        } else {
            self.weights = FloatBuffer(weights)
        }
        self.bias = bias.map(FloatBuffer.init)
    }

    /// `output[t] = W input[t] (+ bias)`, or with `accumulate`, adds into `output`.
    public func apply(_ input: UnsafePointer<Float>, frames: Int, into output: UnsafeMutablePointer<Float>,
                      accumulate: Bool = false) {
        let cin = inChannels, cout = outChannels
        if accumulate, let b = bias {
            for t in 0..<frames { let dst = output + t * cout; for o in 0..<cout { dst[o] += b[o] } }
        }
        if groups == 1 {
            var window = input
            withUnsafePointer(to: &window) { windows in
                ConvolutionKernel.run(into: output, start: accumulate ? .existing : .bias(bias.map { UnsafePointer($0.pointer) }),
                                      windows: windows, taps: 1, weights: weights.pointer,
                                      frames: frames, inChannels: cin, outChannels: cout)
            }
            return
        }
        if !accumulate {
            for t in 0..<frames {
                let dst = output + t * cout
                if let b = bias { dst.update(from: b.pointer, count: cout) } else { dst.update(repeating: 0, count: cout) }
            }
        }
        let inPerGroup = cin / groups, outPerGroup = cout / groups
        let w = weights.pointer
        for t in 0..<frames {
            let x = input + t * cin
            let dst = output + t * cout
            for o in 0..<cout {
                let first = (o / outPerGroup) * inPerGroup
                var acc: Float = 0
                for i in 0..<inPerGroup { acc += w[o * inPerGroup + i] * x[first + i] }
                dst[o] += acc
            }
        }
    }
}

/// A fully connected layer `y = W x + b` with PyTorch's `[out, in]` weights,
/// used for the conditioning network (never on the per-sample path).
public struct Dense {
    public let inputs: Int
    public let outputs: Int
    public let weights: [Float]
    public let bias: [Float]

    public init(inputs: Int, outputs: Int, weights: [Float], bias: [Float]) {
        precondition(weights.count == inputs * outputs && bias.count == outputs)
        self.inputs = inputs
        self.outputs = outputs
        self.weights = weights
        self.bias = bias
    }

    public func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, relu: Bool) {
        weights.withUnsafeBufferPointer { w in
            for o in 0..<outputs {
                var acc = bias[o]
                for i in 0..<inputs { acc += w[o * inputs + i] * x[i] }
                y[o] = relu ? max(acc, 0) : acc
            }
        }
    }
}
