/// The MIDI messages fxhost and the plugin act on, decoded from one raw event as JACK
/// delivers it. Decoding reads only the bytes given and allocates nothing, so
/// the audio thread calls it for every event.
public enum MidiMessage: Equatable, Sendable {
    case controlChange(controller: Int, value: Int)
    case programChange(Int)

    /// The message in `bytes`, or nil for any other (or malformed) event.
    /// Data bytes have the high bit clear; an event whose data bytes do not
    /// is corrupt and is ignored rather than read as a controller above 127.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> MidiMessage? {
        guard bytes.count >= 2, bytes[1] < 0x80 else { return nil }
        switch bytes[0] & 0xF0 {
        case 0xB0:
            guard bytes.count >= 3, bytes[2] < 0x80 else { return nil }
            return .controlChange(controller: Int(bytes[1]), value: Int(bytes[2]))
        case 0xC0:
            return .programChange(Int(bytes[1]))
        default:
            return nil
        }
    }
}
