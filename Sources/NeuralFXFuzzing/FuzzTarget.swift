import Foundation

/// One fuzzed reader: a name (the `fuzz-<name>` executable and the corpus
/// folders), and a function that feeds it arbitrary bytes. The function
/// returns whether the reader took the bytes or refused them with an error;
/// anything else (a trap, a sanitizer report, a hang) is the failure a
/// fuzzer looks for. The fuzz executables and the replay test call the same
/// functions, so a reproducer replays exactly.
public struct FuzzTarget: Sendable {
    public enum Outcome: Equatable, Sendable { case accepted, refused }

    public let name: String
    public let run: @Sendable (Data) -> Outcome

    public static let all: [FuzzTarget] = [safetensors, nam, preset, datasetManifest, nativeManifest, midi, capturePlan]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// Maps a thrown error to `.refused`: every reader here reports bad input
    /// by throwing.
    static func outcome(_ body: () throws -> Void) -> Outcome {
        do {
            try body()
            return .accepted
        } catch {
            return .refused
        }
    }
}
