import Foundation
import NeuralFXModelFiles

/// A hidden file beside the final output that receives the render and is
/// renamed over the output only when complete; removed on any failure, and
/// (once `removeOnInterrupt()` was called) on Ctrl-C or SIGTERM too.
final class TemporaryOutput {
    let path: String
    let finalPath: String
    private var committed = false
    private let cleanupPath: UnsafeMutablePointer<CChar>

    init(beside finalPath: String) {
        AbandonedTemporaries.remove(beside: finalPath, marker: "fxrender-")
        let url = URL(fileURLWithPath: finalPath)
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        path = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).fxrender-\(getpid())-\(tag).tmp").path
        self.finalPath = finalPath
        cleanupPath = strdup(path)
        interruptCleanupPath = cleanupPath
    }

    deinit {
        if !committed { unlink(path) }
        // Another render may have taken over the slot; only clear our own.
        if interruptCleanupPath == cleanupPath { interruptCleanupPath = nil }
        free(cleanupPath)
    }

    /// Moves the finished file into place. Without `replace`, an output that
    /// appeared meanwhile is left alone and the render fails.
    func commit(replace: Bool) throws {
        if !replace && FileManager.default.fileExists(atPath: finalPath) {
            throw RenderError.outputExists(path: finalPath)
        }
        guard rename(path, finalPath) == 0 else {
            throw RenderError.cannotMove(path: finalPath, reason: String(cString: strerror(errno)))
        }
        committed = true
    }
}

/// The temporary file to remove if the process is interrupted: the latest
/// render's (one at a time is what the commands do). Read by the signal
/// handler, so a plain C string.
nonisolated(unsafe) private var interruptCleanupPath: UnsafeMutablePointer<CChar>?

/// Installs SIGINT/SIGTERM handlers that remove the render in progress and exit.
public func removeTemporaryOutputOnInterrupt() {
    let handler: @convention(c) (Int32) -> Void = { signal in
        if let path = interruptCleanupPath { unlink(path) }
        _exit(128 + signal)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
}
