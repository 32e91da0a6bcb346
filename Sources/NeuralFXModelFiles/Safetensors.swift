import Foundation

/// One tensor of a safetensors file, converted to `Float`.
public struct SafetensorsTensor: Equatable, Sendable {
    public var dtype: String
    public var shape: [Int]
    public var values: [Float]

    public init(dtype: String = "F32", shape: [Int], values: [Float]) {
        self.dtype = dtype
        self.shape = shape
        self.values = values
    }
}

/// Why a model file was refused. Every case reads as one line.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { path.isEmpty ? reason : "model file '\(path)': \(reason)" }
}

/// The safetensors container: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw
/// little-endian tensor bytes. Reading trusts nothing in the file: every
/// length, offset and shape is bounds-checked before use.
public enum Safetensors {
    /// Larger headers are refused: a real one is a few KiB, and the format's
    /// reference implementation caps it at 100 MB.
    public static let maxHeaderBytes = 100_000_000
    public static let maxTensors = 100_000

    static let dtypeSizes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4,
                                            "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    /// Parses a whole file's bytes into tensors and metadata.
    public static func parse(_ data: Data, path: String = "") throws -> (tensors: [String: SafetensorsTensor], metadata: [String: String]) {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path, reason) }
        guard data.count >= 8 else { throw fail("too short to be a safetensors file (\(data.count) bytes)") }
        let bytes = [UInt8](data)
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength > 1, headerLength <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(headerLength) is not plausible; not a safetensors file or corrupt")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("truncated: header needs \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = Data(bytes[8..<headerEnd])
        guard bytes[8] == UInt8(ascii: "{") else { throw fail("header is not a JSON object") }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw fail("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("header is not a JSON object") }
        guard header.count <= maxTensors + 1 else { throw fail("header lists too many tensors (\(header.count))") }
        let dataLength = bytes.count - headerEnd

        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw fail("__metadata__ is not an object") }
            for (k, v) in m {
                guard let s = v as? String else { throw fail("__metadata__ value for '\(k)' is not a string") }
                metadata[k] = s
            }
        }
        var ranges: [(Int, Int, String)] = []
        var tensors: [String: SafetensorsTensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let e = entry as? [String: Any] else { throw fail("tensor '\(name)' has no description object") }
            guard let dtype = e["dtype"] as? String, let size = dtypeSizes[dtype] else {
                throw fail("tensor '\(name)' has an unknown dtype \(String(describing: e["dtype"] ?? "none"))")
            }
            guard let shapeAny = e["shape"] as? [Any], shapeAny.count <= 8 else { throw fail("tensor '\(name)' has no valid shape") }
            var shape: [Int] = []
            var count = 1
            for s in shapeAny {
                guard let n = (s as? NSNumber)?.intValue, n >= 0, n <= Int(Int32.max) else {
                    throw fail("tensor '\(name)' has an invalid dimension \(s)")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow, product <= dataLength else { throw fail("tensor '\(name)' is larger than the file") }
                count = product
                shape.append(n)
            }
            guard let offsets = e["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin else { throw fail("tensor '\(name)' has invalid data_offsets") }
            guard end <= dataLength else { throw fail("truncated: tensor '\(name)' ends at byte \(end) of a \(dataLength)-byte data section") }
            guard end - begin == count * size else {
                throw fail("tensor '\(name)' occupies \(end - begin) bytes but its shape \(shape) of \(dtype) needs \(count * size)")
            }
            ranges.append((begin, end, name))
            let base = headerEnd + begin
            tensors[name] = SafetensorsTensor(dtype: dtype, shape: shape,
                                              values: decode(bytes, from: base, count: count, dtype: dtype))
        }
        ranges.sort { $0.0 < $1.0 }
        var cursor = 0
        for (begin, end, name) in ranges {
            guard begin >= cursor else { throw fail("tensor '\(name)' overlaps another tensor's bytes") }
            cursor = end
        }
        return (tensors, metadata)
    }

    private static func decode(_ bytes: [UInt8], from base: Int, count: Int, dtype: String) -> [Float] {
        func le(_ offset: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<width { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            return v
        }
        switch dtype {
        case "F32": return (0..<count).map { Float(bitPattern: UInt32(le(base + 4 * $0, 4))) }
        case "F64": return (0..<count).map { Float(Double(bitPattern: le(base + 8 * $0, 8))) }
        case "F16": return (0..<count).map { Float(Float16(bitPattern: UInt16(le(base + 2 * $0, 2)))) }
        case "BF16": return (0..<count).map { Float(bitPattern: UInt32(le(base + 2 * $0, 2)) << 16) }
        case "I64": return (0..<count).map { Float(Int64(bitPattern: le(base + 8 * $0, 8))) }
        case "I32": return (0..<count).map { Float(Int32(bitPattern: UInt32(le(base + 4 * $0, 4)))) }
        case "I16": return (0..<count).map { Float(Int16(bitPattern: UInt16(le(base + 2 * $0, 2)))) }
        case "I8": return (0..<count).map { Float(Int8(bitPattern: bytes[base + $0])) }
        default: return (0..<count).map { Float(bytes[base + $0]) }
        }
    }

    /// Serializes F32 tensors (in the given order) and string metadata.
    public static func serialize(_ tensors: [(name: String, shape: [Int], values: [Float])],
                                 metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in tensors {
            precondition(t.shape.reduce(1, *) == t.values.count, "shape of \(t.name) does not match its values")
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad so the data section starts 8-byte aligned, as the reference writer does.
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buffer in
                var le = buffer.map { $0.bitPattern.littleEndian }
                le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }
}
