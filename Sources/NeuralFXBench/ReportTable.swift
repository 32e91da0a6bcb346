import Foundation

extension BenchReport {
    /// The report as a plain-text table, one row per model and block size.
    public var table: String {
        var lines = [
            "CPU: \(machine.cpu); \(machine.vectorInstructions); single-core FMA peak \(fixed(machine.peakGFLOPs, 1)) GFLOP/s at the start",
            "Real-time factor (RTF) = processing time / audio time on one core, by wall clock over "
                + "\(repetitions) runs of \(fixed(audioSeconds, 1)) s of audio per row;",
            "RTF cpu: median by the thread's CPU time; GFLOP/s and % peak use it. The peak is measured between",
            "each row's timed runs (median), since the core's speed drifts; % peak is against that row's peak.",
            "",
        ]
        let header = ["model", "block", "RTF median", "RTF min", "RTF max", "RTF cpu", "x realtime", "GFLOP/s",
                      "peak", "% peak", "state KiB", "FLOP/sample"]
        var rows: [[String]] = []
        for m in models {
            let cells = m.streaming.map { ("\($0.blockSize)", $0) } + (m.offline.map { [("whole", $0)] } ?? [])
            for (label, c) in cells {
                rows.append([m.name, label, fixed(c.realTimeFactor.median, 4), fixed(c.realTimeFactor.minimum, 4),
                             fixed(c.realTimeFactor.maximum, 4), fixed(c.cpuRealTimeFactor.median, 4),
                             fixed(1 / c.realTimeFactor.median, 0),
                             fixed(c.gflops, 1), fixed(c.peakGFLOPs, 1), fixed(100 * c.fractionOfPeak, 1),
                             fixed(Double(c.stateBytes) / 1024, 0), "\(m.flopsPerSample)"])
            }
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, s in
                i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - s.count) + s
            }.joined(separator: "  ")
        }
        lines.append(line(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}

func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

extension MachineReport {
    /// The CPU model name the kernel reports, or "unknown".
    public static var cpuName: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }
}
