// swift-tools-version:6.0
import PackageDescription

// The arithmetic-heavy modules are built for the CPU they run on: without a
// target CPU, SIMD fused multiply-adds become library calls (measured ~170x
// slower on these machines). `NEURALFX_PORTABLE=1` builds without it.
let portable = Context.environment["NEURALFX_PORTABLE"] == "1"
let hotSwift: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native", "-Ounchecked"])]
let hotC: [CSetting] = portable ? [] : [.unsafeFlags(["-march=native", "-O3"])]

let package = Package(
    name: "NeuralFX",
    products: [
        .library(name: "NeuralFXCore", targets: ["NeuralFXCore"]),
        .library(name: "NeuralFXAudio", targets: ["NeuralFXAudio"]),
        .executable(name: "fxtrain", targets: ["fxtrain"]),
    ],
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

        // Test support: counts heap allocations made by the calling thread.
        .target(name: "CAllocationCounter", cSettings: hotC),

        .testTarget(name: "NeuralFXCoreTests",
                    dependencies: ["NeuralFXCore", "CAllocationCounter"]),
        .testTarget(name: "NeuralFXModelFilesTests",
                    dependencies: ["NeuralFXModelFiles", "NeuralFXCore"],
                    resources: [.copy("Fixtures")]),

        // Audio files (libsndfile), resampling (libsamplerate), loudness. C enters here only.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .target(name: "NeuralFXAudio", dependencies: ["CSndFile", "CSampleRate"], swiftSettings: hotSwift),
        .testTarget(name: "NeuralFXAudioTests", dependencies: ["NeuralFXAudio"]),

        // Training: exact backpropagation for micro-tcn, losses, optimizer, datasets, trainer.
        .target(name: "NeuralFXTraining",
                dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXAudio",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        .testTarget(name: "NeuralFXTrainingTests", dependencies: ["NeuralFXTraining", "NeuralFXCore", "NeuralFXAudio"]),
        .testTarget(name: "FXTrainTests", dependencies: ["fxtrain", "NeuralFXAudio", "NeuralFXCore", "NeuralFXModelFiles"]),
        // Second suite: needs the recordings in ../shared/data (fails without them).
        .testTarget(name: "NeuralFXRealDataTests", dependencies: ["NeuralFXTraining"]),
        .executableTarget(name: "fxtrain",
                          dependencies: ["NeuralFXTraining", "NeuralFXModelFiles", "NeuralFXCore",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ],
    swiftLanguageModes: [.v5]
)
