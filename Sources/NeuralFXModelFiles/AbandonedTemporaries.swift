import Foundation

/// Files are written to a hidden temporary beside their final path, named
/// `.NAME.MARKERPID….tmp`, and renamed into place when complete. A process
/// killed mid-write (SIGKILL, power loss) leaves its temporary behind; the
/// next write to the same path removes the ones whose writer is gone.
public enum AbandonedTemporaries {
    /// Removes temporaries of `finalPath` left by processes that no longer run.
    public static func remove(beside finalPath: String, marker: String = "") {
        let url = URL(fileURLWithPath: finalPath)
        let folder = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).\(marker)"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let pid = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let id = Int32(pid), id > 0, id != getpid(), !isRunning(id) else { continue }
            unlink(folder + "/" + name)
        }
    }

    private static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
