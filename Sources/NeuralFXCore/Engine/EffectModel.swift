/// Everything needed to run an effect: the network, the knobs that drive its
/// conditioning, the rate it was trained at, and what is known about it.
public struct EffectModel: Sendable {
    public var name: String
    public var blueprint: any NetworkBlueprint
    public var sampleRate: Double
    public var knobs: KnobSchema
    /// Free-form facts shown by `--info`: provenance, training metrics, gear.
    public var info: [(key: String, value: String)]

    public init(name: String, blueprint: any NetworkBlueprint, sampleRate: Double, knobs: KnobSchema,
                info: [(key: String, value: String)] = []) {
        self.name = name
        self.blueprint = blueprint
        self.sampleRate = sampleRate
        self.knobs = knobs
        self.info = info
    }
}
