import Foundation
import NeuralFXCapture

extension FuzzTarget {
    /// Plan files of `fxtrain capture` (hand-written, or made by a script
    /// for digital gear). A plan that loads must survive its own writer
    /// (the session manifest stores it and compares it on resume), and every
    /// setting must describe itself and give a value to every knob.
    public static let capturePlan = FuzzTarget(name: "capture-plan") { data in
        outcome {
            let plan = try KnobPlan.decode(data, path: "fuzz")
            let again = try KnobPlan.decode(JSONEncoder().encode(plan), path: "fuzz (rewritten)")
            precondition(again == plan, "plan changed when written and read back")
            precondition(plan.settings.count <= KnobPlan.maximumSettings)
            for i in plan.settings.indices {
                _ = plan.describe(setting: i)
                precondition(plan.knobValues(setting: i).count == plan.knobs.count)
            }
            _ = plan.heldOut
            _ = plan.schema
        }
    }
}
