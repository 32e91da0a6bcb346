// swift-tools-version:6.0
import PackageDescription

// The arithmetic-heavy modules are built for the CPU they run on: without a
// target CPU, SIMD fused multiply-adds become library calls (measured ~170x
// slower on these machines). `NEURALFX_PORTABLE=1` builds without it.
let portable = Context.environment["NEURALFX_PORTABLE"] == "1"
let hotSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native", "-Ounchecked"])]
let hotC: [CSetting] = portable ? [] : [.unsafeFlags(["-march=native", "-O3"])]

/// The fuzzed readers; `make fuzz` builds and runs `fuzz-<name>` for each.
let fuzzTargets = ["safetensors", "nam", "preset", "dataset-manifest", "native-manifest", "midi"]

let package = Package(
    name: "NeuralFX",
    products: [
        .library(name: "NeuralFXCore", targets: ["NeuralFXCore"]),
        .library(name: "NeuralFXAudio", targets: ["NeuralFXAudio"]),
        .library(name: "NeuralFXTools", targets: ["NeuralFXTools"]),
        .executable(name: "fxrender", targets: ["fxrender"]),
        .library(name: "NeuralFXDevices", targets: ["NeuralFXDevices"]),
        .library(name: "NeuralFXDatasets", targets: ["NeuralFXDatasets"]),
        .executable(name: "fxtrain", targets: ["fxtrain"]),
        .library(name: "NeuralFXHost", targets: ["NeuralFXHost"]),
        .executable(name: "fxhost", targets: ["fxhost"]),
        .executable(name: "fxbench", targets: ["fxbench"]),
    ] + fuzzTargets.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
    ],
    targets: [
        // Core: layers, models, streaming engine, knobs. Pure Swift, no I/O.
        .target(name: "NeuralFXCore",
                dependencies: [.product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),

        // Model files: safetensors with micro-tcn names (and .nam), handed to the core as plain descriptions.
        .target(name: "NeuralFXModelFiles", dependencies: ["NeuralFXCore"]),

        // Speed measurement (issue 6): timing, the FMA peak microbenchmark, reports; and its thin command.
        .target(name: "NeuralFXBench", dependencies: ["NeuralFXCore"], swiftSettings: hotSwift),
        .executableTarget(name: "fxbench",
                          dependencies: ["NeuralFXBench", "NeuralFXCore", "NeuralFXModelFiles",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // The README's set-up (make setup) on a machine missing every package, as root and through sudo.
        .testTarget(name: "SetupTests"),

        // Test support: counts heap allocations made by the calling thread.
        .target(name: "CAllocationCounter", cSettings: hotC),

        .testTarget(name: "NeuralFXCoreTests",
                    dependencies: ["NeuralFXCore", "CAllocationCounter"]),
        .testTarget(name: "NeuralFXModelFilesTests",
                    dependencies: ["NeuralFXModelFiles", "NeuralFXCore", "CAllocationCounter"],
                    resources: [.copy("Fixtures")]),
        // Second suite: needs the recordings in ../shared/data (fails without them).
        .testTarget(name: "NeuralFXRealDataTests",
                    dependencies: ["NeuralFXModelFiles", "NeuralFXCore", "NeuralFXTraining"],
                    resources: [.copy("Fixtures")]),

        // Audio files (libsndfile), resampling (libsamplerate), loudness. C enters here only.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .target(name: "NeuralFXAudio", dependencies: ["CSndFile", "CSampleRate"], swiftSettings: hotSwift),
        .testTarget(name: "NeuralFXAudioTests", dependencies: ["NeuralFXAudio"]),

        // Model/preset catalog and the offline render pipeline shared by the executables.
        .target(name: "NeuralFXTools", dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXAudio"]),
        .executableTarget(name: "fxrender",
                          dependencies: ["NeuralFXTools", "NeuralFXModelFiles", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "NeuralFXToolsTests", dependencies: ["NeuralFXTools", "NeuralFXAudio", "NeuralFXCore"]),
        // Runs the built fxrender (a dependency so that `swift test` builds it).
        .testTarget(name: "FXRenderTests",
                    dependencies: ["fxrender", "NeuralFXTools", "NeuralFXModelFiles", "NeuralFXAudio", "NeuralFXCore"]),

        // Reference devices (optical compressor, overdrive) and the paired
        // datasets rendered from them.
        .target(name: "NeuralFXDevices",
                dependencies: ["NeuralFXCore", .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        .target(name: "NeuralFXDatasets",
                dependencies: ["NeuralFXCore", "NeuralFXDevices", "NeuralFXAudio",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        // A model against its reference device: per-knob error tables and plots.
        .target(name: "NeuralFXEvaluation",
                dependencies: ["NeuralFXDevices", "NeuralFXTraining", "NeuralFXAudio", "NeuralFXCore"]),
        .testTarget(name: "NeuralFXEvaluationTests",
                    dependencies: ["NeuralFXEvaluation", "NeuralFXDevices", "NeuralFXDatasets", "NeuralFXTraining", "NeuralFXCore",
                                   "NeuralFXModelFiles"]),
        .executableTarget(name: "fxtrain",
                          dependencies: ["NeuralFXDatasets", "NeuralFXDevices", "NeuralFXTraining", "NeuralFXModelFiles",
                                         "NeuralFXEvaluation", "NeuralFXAudio", "NeuralFXCore",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "NeuralFXDevicesTests",
                    dependencies: ["NeuralFXDevices", "NeuralFXCore", "CAllocationCounter", "NeuralFXModelFiles"]),
        .testTarget(name: "NeuralFXDatasetsTests",
                    dependencies: ["NeuralFXDatasets", "NeuralFXDevices", "NeuralFXAudio", "NeuralFXCore"]),
        // Runs the built fxtrain (a dependency so that `swift test` builds it).
        .testTarget(name: "FXTrainTests",
                    dependencies: ["fxtrain", "NeuralFXDatasets", "NeuralFXAudio", "NeuralFXCore", "NeuralFXModelFiles"]),
        // Live hosting: JACK and ALSA through system-library targets, wrapped once in NeuralFXHost.
        .systemLibrary(name: "CJack", pkgConfig: "jack", providers: [.apt(["libjack-jackd2-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .target(name: "NeuralFXHost",
                dependencies: ["NeuralFXCore", "NeuralFXTools", "CJack", "CALSA", "CAllocationCounter"],
                swiftSettings: hotSwift),
        .executableTarget(name: "fxhost",
                          dependencies: ["NeuralFXHost", "NeuralFXModelFiles", "CAllocationCounter",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Runs the built fxhost against real servers (a dependency so that `swift test` builds it).
        .testTarget(name: "FXHostTests",
                    dependencies: ["fxhost", "NeuralFXHost", "NeuralFXTools", "NeuralFXModelFiles", "NeuralFXCore"]),
        // Training: exact backpropagation for micro-tcn, losses, optimizer, datasets, trainer.
        .target(name: "NeuralFXTraining",
                dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXAudio",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        .testTarget(name: "NeuralFXTrainingTests", dependencies: ["NeuralFXTraining", "NeuralFXCore", "NeuralFXAudio"]),

        // Fuzzing (issue 19): the fuzzed readers behind one function each, a
        // libFuzzer executable per reader (`make fuzz`; a file replayer in a
        // normal build), and the test that replays the seed and regression corpora.
        .target(name: "NeuralFXFuzzing",
                dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXTools", "NeuralFXDatasets",
                               "NeuralFXTraining", "NeuralFXHost"]),
    ] + fuzzTargets.map { .executableTarget(name: "fuzz-\($0)", dependencies: ["NeuralFXFuzzing"]) } + [
        .testTarget(name: "FuzzReplayTests", dependencies: ["NeuralFXFuzzing"]),
    ],
    swiftLanguageModes: [.v5]
)
