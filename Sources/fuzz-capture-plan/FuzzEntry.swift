import NeuralFXFuzzing

// Under libFuzzer (make fuzz builds with -DNFX_FUZZING) the runtime owns main
// and calls this; a normal build gets a main that replays files instead.
#if NFX_FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzMain.testOneInput(.capturePlan, bytes, count)
}
#else
@main enum FuzzEntry {
    static func main() { FuzzMain.replay(.capturePlan) }
}
#endif
