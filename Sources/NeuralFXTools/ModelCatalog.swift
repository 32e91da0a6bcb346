import Foundation

/// Finds model and preset files given as a path or as a bare name.
///
/// A name is looked up, first match wins, in:
/// 1. each directory of `$NEURALFX_PATH` (colon-separated): its `models/` or
///    `presets/` subdirectory, then the directory itself;
/// 2. the user's data directory `$XDG_DATA_HOME/neuralfx` (default
///    `~/.local/share/neuralfx`), its `models/` or `presets/`;
/// 3. the installed share directory `<bindir>/../share/neuralfx`;
/// 4. the source tree's `models/` and `presets/` (for commands run from a
///    build directory).
public struct ModelCatalog: Sendable {
    public enum Kind: String, Sendable {
        case model, preset

        /// File extensions tried, in order, for a name given without one.
        public var extensions: [String] { self == .model ? ["safetensors", "nam"] : ["json"] }
        var subdirectory: String { self == .model ? "models" : "presets" }
    }

    /// The model used when none is named: the bundled LA-2A-style compressor.
    public static let defaultModelName = "la2a"

    /// Search roots, in order; `flat` roots may also hold files directly.
    public let roots: [(path: String, flat: Bool)]

    public init(roots: [(path: String, flat: Bool)]) { self.roots = roots }

    /// The standard search path for this process.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                executablePath: String? = currentExecutablePath(),
                                sourceTreeRoot: String? = sourceTreeRoot()) -> ModelCatalog {
        var roots: [(String, Bool)] = []
        if let list = environment["NEURALFX_PATH"] {
            roots += list.split(separator: ":").filter { !$0.isEmpty }.map { (String($0), true) }
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            roots.append((xdg + "/neuralfx", false))
        } else if let home = environment["HOME"], !home.isEmpty {
            roots.append((home + "/.local/share/neuralfx", false))
        }
        if let executablePath {
            let bin = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            roots.append((bin.deletingLastPathComponent().appendingPathComponent("share/neuralfx").path, false))
        }
        if let sourceTreeRoot { roots.append((sourceTreeRoot, false)) }
        return ModelCatalog(roots: roots)
    }

    /// The directories searched for one kind, in order.
    public func directories(for kind: Kind) -> [String] {
        var result: [String] = []
        for root in roots {
            result.append(root.path + "/" + kind.subdirectory)
            if root.flat { result.append(root.path) }
        }
        return result.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// The file `spec` means: an existing path as given, else a name looked up
    /// in the search directories.
    public func resolve(_ spec: String, kind: Kind) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw CatalogError.isDirectory(kind: kind, path: spec) }
            return spec
        }
        guard !spec.isEmpty, !spec.contains("/") else { throw CatalogError.noSuchFile(kind: kind, path: spec) }
        let candidates = kind.extensions.contains(where: { spec.hasSuffix("." + $0) })
            ? [spec] : kind.extensions.map { spec + "." + $0 }
        for directory in directories(for: kind) {
            for name in candidates {
                let path = directory + "/" + name
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    return path
                }
            }
        }
        throw CatalogError.notFound(kind: kind, name: spec, searched: directories(for: kind).filter(isDirectoryPath),
                                    available: available(kind))
    }

    /// Names (without extension) of every file of this kind on the search path.
    public func available(_ kind: Kind) -> [String] {
        var names = Set<String>()
        for directory in directories(for: kind) {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                if let ext = kind.extensions.first(where: { file.hasSuffix("." + $0) }), !file.hasPrefix(".") {
                    names.insert(String(file.dropLast(ext.count + 1)))
                }
            }
        }
        return names.sorted()
    }

    /// This executable's path, symlinks resolved (Linux: /proc/self/exe).
    public static func currentExecutablePath() -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first
    }

    /// The root of the source tree this module was built from, if it is still there.
    public static func sourceTreeRoot(sourceFile: String = #filePath) -> String? {
        let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()  // NeuralFXTools
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) ? root.path : nil
    }
}

private func isDirectoryPath(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// Why a model or preset could not be found. Each reads as one line.
public enum CatalogError: Error, Equatable, CustomStringConvertible {
    case noSuchFile(kind: ModelCatalog.Kind, path: String)
    case isDirectory(kind: ModelCatalog.Kind, path: String)
    case notFound(kind: ModelCatalog.Kind, name: String, searched: [String], available: [String])

    public var description: String {
        switch self {
        case let .noSuchFile(kind, path):
            return "\(kind.rawValue) file '\(path)' does not exist"
        case let .isDirectory(kind, path):
            return "\(kind.rawValue) '\(path)' is a directory, not a \(kind.rawValue) file"
        case let .notFound(kind, name, searched, available):
            let whereLooked = searched.isEmpty ? "no \(kind.subdirectory) directory exists on the search path"
                : "looked in " + searched.joined(separator: ", ")
            let choices = available.isEmpty ? "none available" : "available: " + available.joined(separator: ", ")
            return "no \(kind.rawValue) named '\(name)' (\(whereLooked); \(choices); set NEURALFX_PATH to add directories)"
        }
    }
}
