/// Why a capture cannot go on: one line for the user, naming what to do
/// where there is something to do.
public struct CaptureError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
