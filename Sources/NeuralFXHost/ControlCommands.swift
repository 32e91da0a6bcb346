/// The text commands that drive a session: typed in the terminal UI's
/// prompt or sent line by line on standard input with `--no-ui`.
public enum ControlCommands {
    public static let help = "commands: NAME=VALUE | set NAME=VALUE | load MODEL | preset PRESET | bypass on|off | gain in|out DB"
        + " | dc on|off | learn KNOB | programs NAME,... | status | stats | quit"

    public enum Outcome: Equatable {
        case reply(String)
        case quit
    }

    /// Runs one command line against `session`.
    public static func execute(_ line: String, on session: HostSession) -> Outcome {
        let words = line.trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first?.lowercased() else { return .reply("") }
        let rest = words.dropFirst().joined(separator: " ")
        func onOff(_ text: String) -> Bool? {
            switch text.lowercased() { case "on", "1", "true": return true; case "off", "0", "false": return false; default: return nil }
        }
        do {
            switch verb {
            case "quit", "exit", "q":
                return .quit
            case "set":
                try session.set(rest)
                return .reply("ok")
            case "load":
                guard !rest.isEmpty else { return .reply("error: load needs a model name") }
                session.load(rest)
                return .reply("loading \(rest)")
            case "preset":
                guard !rest.isEmpty else { return .reply("error: preset needs a preset name or file") }
                session.loadPreset(rest)
                return .reply("loading preset \(rest)")
            case "bypass":
                guard let on = onOff(rest) else { return .reply("error: bypass on|off") }
                session.setBypass(on)
                return .reply("ok")
            case "dc":
                guard let on = onOff(rest) else { return .reply("error: dc on|off") }
                session.setDCBlocker(on)
                return .reply("ok")
            case "gain":
                guard words.count == 3, let db = Double(words[2]), db.isFinite, abs(db) <= 60 else {
                    return .reply("error: gain in|out DB (-60...60)")
                }
                switch words[1].lowercased() {
                case "in": session.setInputGain(decibels: db)
                case "out": session.setOutputGain(decibels: db)
                default: return .reply("error: gain in|out DB")
                }
                return .reply("ok")
            case "learn":
                try session.learn(rest)
                return .reply("ok")
            case "programs":
                session.programs = rest.split(separator: ",").map { String($0).trimmed }
                return .reply("ok")
            case "status":
                return .reply(session.statusLine())
            case "stats":
                return .reply(session.statisticsJSON())
            case "help":
                return .reply(help)
            default:
                if line.contains("=") {
                    try session.set(line)
                    return .reply("ok")
                }
                return .reply("error: unknown command '\(verb)'; " + help)
            }
        } catch {
            return .reply("error: \(error)")
        }
    }
}
