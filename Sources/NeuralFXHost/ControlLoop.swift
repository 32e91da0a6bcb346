import Foundation
import Glibc
import Synchronization

/// Something the user steers the session with, asked on the control thread
/// every few milliseconds. Returns false to quit.
public protocol ControlSurface: AnyObject {
    func start(_ session: HostSession)
    func tick(_ session: HostSession, notices: [String]) -> Bool
    func finish(_ session: HostSession)
}

/// Runs the control thread until the user quits, a signal or the server stops
/// it, or `seconds` of audio have been processed.
public enum ControlLoop {
    public static func run(_ session: HostSession, surface: ControlSurface, sampleRate: Double, seconds: Double?) {
        surface.start(session)
        defer { surface.finish(session) }
        let limit = seconds.map { Int($0 * sampleRate) }
        while !session.stop.isRaised {
            let notices = session.poll()
            if !surface.tick(session, notices: notices) { break }
            if let limit, session.processor.statistics.frames >= limit { break }
            usleep(5_000)
        }
        _ = session.poll()
    }
}

/// `--no-ui`: commands arrive as lines on standard input, replies and notices
/// go to standard output one per line. End of input just stops reading.
public final class ScriptControl: ControlSurface {
    private let lines = Mutex<[String]>([])

    public init() {
        let thread = Thread { [self] in
            while let line = readLine() { lines.withLock { $0.append(line) } }
        }
        thread.start()
    }

    public func start(_ session: HostSession) {
        say("running \(session.model.name); " + (0..<session.model.knobs.count).map(session.knobDescription).joined(separator: " "))
    }

    public func tick(_ session: HostSession, notices: [String]) -> Bool {
        notices.forEach(say)
        for line in lines.withLock({ l -> [String] in defer { l = [] }; return l }) {
            switch ControlCommands.execute(line, on: session) {
            case .quit: return false
            case let .reply(text): if !text.isEmpty { say(text) }
            }
        }
        return true
    }

    public func finish(_ session: HostSession) {}

    private func say(_ text: String) {
        print(text)
        fflush(stdout)
    }
}
