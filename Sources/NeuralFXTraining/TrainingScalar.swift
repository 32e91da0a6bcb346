import RealModule

/// The scalar types the trainer runs in: `Float` for training, `Double` for
/// the finite-difference gradient checks. Every layer is written once,
/// generic over this.
public protocol TrainingScalar: Real, BinaryFloatingPoint, SIMDScalar, Sendable {}

extension Float: TrainingScalar {}
extension Double: TrainingScalar {}
