import Foundation

/// The whole of a `fuzz-<name>` executable. Built for fuzzing (`make fuzz`:
/// `--sanitize=fuzzer` and `-DNFX_FUZZING`), libFuzzer owns `main` and calls
/// `testOneInput`; otherwise `replay` runs the target on the files (or every
/// file in the folders) named on the command line and prints each outcome,
/// so a reproducer can be replayed in a normal build or under a debugger.
public enum FuzzMain {
    public static func testOneInput(_ target: FuzzTarget, _ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        _ = target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }

    public static func replay(_ target: FuzzTarget, _ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: fuzz-\(target.name) FILE|FOLDER...\n".utf8))
            exit(2)
        }
        for path in arguments {
            guard let files = try? inputs(at: path) else {
                FileHandle.standardError.write(Data("fuzz-\(target.name): cannot read '\(path)'\n".utf8))
                exit(1)
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("fuzz-\(target.name): cannot read '\(file)'\n".utf8))
                    exit(1)
                }
                print("\(file): \(target.run(data))")
            }
        }
        exit(0)
    }

    /// `path` itself, or the regular files in it, sorted.
    public static func inputs(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile)
        }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { !$0.hasPrefix(".") }
            .map { (path as NSString).appendingPathComponent($0) }
    }
}
