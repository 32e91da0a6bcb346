/// Why fxhost cannot go on. Each reads as one line for the user.
public enum HostError: Error, CustomStringConvertible {
    case badArgument(String)
    case model(String)
    case jack(String)
    case alsa(String)

    public var description: String {
        switch self {
        case let .badArgument(m), let .model(m), let .jack(m), let .alsa(m): return m
        }
    }
}
