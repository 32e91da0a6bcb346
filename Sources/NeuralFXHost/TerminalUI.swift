import Glibc

/// The interactive terminal: one status line redrawn in place, single keys to
/// steer, a prompt for typed values and commands. Runs on the control thread.
///
/// Keys: up/down (or k/j) select a knob, left/right (or h/l) nudge it by 1%
/// of its range, -/+ by 10%, = types a value, b bypass, d DC blocker,
/// m MIDI learn, p load a preset, o open a model, : any command, q quit.
public final class TerminalUI: ControlSurface {
    private var saved = termios()
    private var selected = 0
    private var prompt: (label: String, text: String, action: (String) -> String)?
    private var pendingEscape: [UInt8] = []
    private var lastDraw = 0.0
    private var quit = false

    public init() {}

    public func start(_ session: HostSession) {
        tcgetattr(0, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &raw)
        write("keys: ↑↓ select  ←→ nudge  -/+ coarse  = value  b bypass  d dc  m learn  p preset  o model  : command  q quit\n")
    }

    public func finish(_ session: HostSession) {
        tcsetattr(0, TCSANOW, &saved)
        write("\n")
    }

    public func tick(_ session: HostSession, notices: [String]) -> Bool {
        for n in notices { write("\r\u{1B}[K\(n)\n") }
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1 { handle(byte, session) }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let t = Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
        if t - lastDraw > 0.1 || !notices.isEmpty {
            lastDraw = t
            draw(session)
        }
        return !quit
    }

    private func draw(_ session: HostSession) {
        if let p = prompt {
            write("\r\u{1B}[K\(p.label)\(p.text)")
            return
        }
        let knob = session.model.knobs.count > 0 ? "> \(session.knobDescription(selected)) | " : ""
        write("\r\u{1B}[K" + knob + session.statusLine())
    }

    private func handle(_ byte: UInt8, _ session: HostSession) {
        if var p = prompt {
            switch byte {
            case 10, 13:
                prompt = nil
                write("\r\u{1B}[K" + p.action(p.text) + "\n")
            case 27:
                prompt = nil
            case 127, 8:
                if !p.text.isEmpty { p.text.removeLast() }
                prompt = p
            default:
                p.text.append(Character(Unicode.Scalar(byte)))
                prompt = p
            }
            draw(session)
            return
        }
        // Arrow keys arrive as ESC [ A..D.
        if !pendingEscape.isEmpty || byte == 27 {
            pendingEscape.append(byte)
            if pendingEscape.count < 3 { return }
            let key = pendingEscape[2]
            pendingEscape = []
            switch key {
            case 65: handle(UInt8(ascii: "k"), session)
            case 66: handle(UInt8(ascii: "j"), session)
            case 67: handle(UInt8(ascii: "l"), session)
            case 68: handle(UInt8(ascii: "h"), session)
            default: break
            }
            return
        }
        let count = session.model.knobs.count
        selected = count == 0 ? 0 : min(selected, count - 1)
        switch Character(Unicode.Scalar(byte)) {
        case "q": quit = true
        case "k" where count > 0: selected = (selected + count - 1) % count
        case "j" where count > 0: selected = (selected + 1) % count
        case "h" where count > 0: session.nudge(selected, by: -0.01)
        case "l" where count > 0: session.nudge(selected, by: 0.01)
        case "-" where count > 0: session.nudge(selected, by: -0.1)
        case "+" where count > 0: session.nudge(selected, by: 0.1)
        case "b": session.setBypass(!session.bypassed)
        case "d": session.setDCBlocker(!session.dcBlocker)
        case "m" where count > 0:
            _ = ControlCommands.execute("learn \(session.model.knobs.knobs[selected].name)", on: session)
        case "=" where count > 0:
            let name = session.model.knobs.knobs[selected].name
            prompt = ("\(name) = ", "", { text in Self.reply(ControlCommands.execute("set \(name)=\(text)", on: session)) })
        case "p":
            prompt = ("preset: ", "", { text in Self.reply(ControlCommands.execute("preset \(text)", on: session)) })
        case "o":
            prompt = ("model: ", "", { text in Self.reply(ControlCommands.execute("load \(text)", on: session)) })
        case ":":
            prompt = (": ", "", { [weak self] text in
                let outcome = ControlCommands.execute(text, on: session)
                if outcome == .quit { self?.quit = true }
                return Self.reply(outcome)
            })
        default: break
        }
        draw(session)
    }

    private static func reply(_ outcome: ControlCommands.Outcome) -> String {
        if case let .reply(text) = outcome { return text }
        return ""
    }

    private func write(_ text: String) {
        fputs(text, stdout)
        fflush(stdout)
    }
}
