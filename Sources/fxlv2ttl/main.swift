import Foundation
import NeuralFXCore
import NeuralFXModelFiles
import NeuralFXPlugin

// Writes manifest.ttl and neuralfx.ttl for the neuralfx.lv2 bundle:
//   fxlv2ttl MODELS_DIR BUNDLE_DIR
let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: fxlv2ttl MODELS_DIR BUNDLE_DIR\n".utf8))
    exit(2)
}
do {
    var schemas: [String: KnobSchema] = [:]
    for kind in PluginKind.all {
        if case .bundled(let file) = kind.effect, schemas[file] == nil {
            schemas[file] = try ModelFile.load(path: arguments[1] + "/" + file).knobs
        }
    }
    try Turtle.manifest().write(toFile: arguments[2] + "/manifest.ttl", atomically: true, encoding: .utf8)
    try Turtle.plugins(schemas: schemas).write(toFile: arguments[2] + "/" + Turtle.dataName, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("fxlv2ttl: \(error)\n".utf8))
    exit(1)
}
