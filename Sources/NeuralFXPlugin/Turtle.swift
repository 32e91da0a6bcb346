import NeuralFXCore

/// The bundle's Turtle, written from `PluginKind` (port order) and the
/// bundled models' knob schemas (names, units, ranges, defaults), so the
/// description and the binary cannot drift apart.
public enum Turtle {
    public static let binaryName = "neuralfx.so"
    public static let dataName = "neuralfx.ttl"

    public static func manifest() -> String {
        var s = """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .


        """
        for kind in PluginKind.all {
            s += "<\(kind.uri)>\n    a lv2:Plugin ;\n    lv2:binary <\(binaryName)> ;\n    rdfs:seeAlso <\(dataName)> .\n\n"
        }
        return s
    }

    /// `schemas`: the knobs of each bundled model file, by file name.
    public static func plugins(schemas: [String: KnobSchema]) throws -> String {
        var s = """
        @prefix atom: <http://lv2plug.in/ns/ext/atom#> .
        @prefix doap: <http://usefulinc.com/ns/doap#> .
        @prefix log: <http://lv2plug.in/ns/ext/log#> .
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix patch: <http://lv2plug.in/ns/ext/patch#> .
        @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix rsz: <http://lv2plug.in/ns/ext/resize-port#> .
        @prefix state: <http://lv2plug.in/ns/ext/state#> .
        @prefix units: <http://lv2plug.in/ns/extensions/units#> .
        @prefix urid: <http://lv2plug.in/ns/ext/urid#> .
        @prefix work: <http://lv2plug.in/ns/ext/worker#> .

        <\(PluginKind.modelFileURI)>
            a lv2:Parameter ;
            rdfs:label "Model file" ;
            rdfs:comment "A NeuralFX .safetensors model or a Neural Amp Modeler .nam capture" ;
            rdfs:range atom:Path .


        """
        for kind in PluginKind.all {
            let schema: KnobSchema
            switch kind.effect {
            case .bundled(let file):
                guard let found = schemas[file] else { throw TurtleError(message: "no knob schema for \(file)") }
                schema = found
            case .loader:
                schema = .empty
            }
            s += plugin(kind, schema: schema)
        }
        return s
    }

    static func plugin(_ kind: PluginKind, schema: KnobSchema) -> String {
        let ports = kind.ports(knobCount: schema.count)
        let category: String
        switch kind.effect {
        case .bundled(let file): category = PluginKind.compressorModels.contains(file) ? "lv2:CompressorPlugin" : "lv2:DistortionPlugin"
        case .loader: category = "lv2:SimulatorPlugin"
        }
        var p: [String] = []
        let sides = kind.channels == 1 ? [("", "")] : [("_l", " L"), ("_r", " R")]
        for (c, side) in sides.enumerated() {
            p.append(port(["lv2:InputPort", "lv2:AudioPort"], ports.audioIn(c), "in" + side.0, "In" + side.1))
        }
        for (c, side) in sides.enumerated() {
            p.append(port(["lv2:OutputPort", "lv2:AudioPort"], ports.audioOut(c), "out" + side.0, "Out" + side.1))
        }
        if kind.isLoader {
            for i in 0..<ports.knobs {
                p.append(port(["lv2:InputPort", "lv2:ControlPort"], ports.knob(i), "knob\(i + 1)", "Knob \(i + 1)",
                              extra: ["lv2:default 0.5", "lv2:minimum 0.0", "lv2:maximum 1.0"]))
            }
        } else {
            for (i, k) in schema.knobs.enumerated() { p.append(knobPort(k, index: ports.knob(i))) }
        }
        let gain = ["lv2:default 0.0", "lv2:minimum \(number(PluginKind.gainRange.lowerBound))",
                    "lv2:maximum \(number(PluginKind.gainRange.upperBound))", "units:unit units:db"]
        p.append(port(["lv2:InputPort", "lv2:ControlPort"], ports.inputGain, "input_gain", "Input Gain", extra: gain))
        p.append(port(["lv2:InputPort", "lv2:ControlPort"], ports.outputGain, "output_gain", "Output Gain", extra: gain))
        p.append(port(["lv2:InputPort", "lv2:ControlPort"], ports.enabled, "enabled", "Enabled",
                      extra: ["lv2:designation lv2:enabled", "lv2:portProperty lv2:toggled", "lv2:default 1",
                              "lv2:minimum 0", "lv2:maximum 1"]))
        p.append(port(["lv2:OutputPort", "lv2:ControlPort"], ports.latency, "latency", "Latency",
                      extra: ["lv2:designation lv2:latency", "lv2:portProperty lv2:reportsLatency, lv2:integer",
                              "units:unit units:frame", "lv2:minimum 0", "lv2:maximum 65536"]))
        if ports.hasAtomPorts {
            let atom = ["atom:bufferType atom:Sequence", "atom:supports patch:Message",
                        "lv2:designation lv2:control", "lv2:portProperty lv2:connectionOptional", "rsz:minimumSize 16384"]
            p.append(port(["lv2:InputPort", "atom:AtomPort"], ports.control, "control", "Control", extra: atom))
            p.append(port(["lv2:OutputPort", "atom:AtomPort"], ports.notify, "notify", "Notify", extra: atom))
        }
        var s = "<\(kind.uri)>\n    a lv2:Plugin, \(category) ;\n    doap:name \"\(kind.name)\" ;\n"
        s += "    lv2:optionalFeature lv2:hardRTCapable, urid:map, log:log, work:schedule, state:mapPath, state:freePath ;\n"
        s += "    lv2:extensionData work:interface, state:interface ;\n"
        if kind.isLoader { s += "    patch:writable <\(PluginKind.modelFileURI)> ;\n" }
        s += "    lv2:port " + p.joined(separator: " , ") + " .\n\n"
        return s
    }

    static func knobPort(_ k: KnobSpec, index: Int) -> String {
        var extra: [String]
        if k.isSwitch {
            extra = ["lv2:portProperty lv2:integer, lv2:enumeration", "lv2:default \(Int(k.defaultValue))",
                     "lv2:minimum 0", "lv2:maximum \(k.positions.count - 1)"]
            let points = k.positions.enumerated().map { "[ rdfs:label \(literal($0.element)) ; rdf:value \($0.offset) ]" }
            extra.append("lv2:scalePoint " + points.joined(separator: ", "))
        } else {
            extra = ["lv2:default \(number(k.defaultValue))", "lv2:minimum \(number(k.minimum))", "lv2:maximum \(number(k.maximum))"]
            if let unit = unitTerm(k.unit) { extra.append("units:unit " + unit) }
        }
        return port(["lv2:InputPort", "lv2:ControlPort"], index, k.name, k.label, extra: extra)
    }

    static func unitTerm(_ unit: String) -> String? {
        switch unit.lowercased() {
        case "": return nil
        case "db": return "units:db"
        case "hz": return "units:hz"
        case "ms": return "units:ms"
        case "s": return "units:s"
        case "%": return "units:pc"
        default: return "[ rdfs:label \(literal(unit)) ; units:symbol \(literal(unit)) ; units:render \(literal("%f " + unit)) ]"
        }
    }

    static func port(_ types: [String], _ index: Int, _ symbol: String, _ name: String, extra: [String] = []) -> String {
        let lines = ["a " + types.joined(separator: ", "), "lv2:index \(index)", "lv2:symbol \(literal(symbol))",
                     "lv2:name \(literal(name))"] + extra
        return "[\n        " + lines.joined(separator: " ;\n        ") + "\n    ]"
    }

    /// Turtle decimals always carry a point (an integer literal is xsd:integer).
    static func number(_ v: Double) -> String {
        var s = String(v)
        if !s.contains(".") && !s.contains("e") { s += ".0" }
        return s
    }

    static func literal(_ text: String) -> String {
        var s = "\""
        for ch in text.unicodeScalars {
            switch ch {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            default: s.unicodeScalars.append(ch)
            }
        }
        return s + "\""
    }
}

public struct TurtleError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
