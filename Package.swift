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
        .library(name: "NeuralFXHost", targets: ["NeuralFXHost"]),
        .executable(name: "fxhost", targets: ["fxhost"]),
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

        // Test support: counts heap allocations made by the calling thread.
        .target(name: "CAllocationCounter", cSettings: hotC),

        // Live hosting: JACK and ALSA through system-library targets, wrapped once in NeuralFXHost.
        .systemLibrary(name: "CJack", pkgConfig: "jack",
                       providers: [.apt(["libjack-jackd2-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa",
                       providers: [.apt(["libasound2-dev"])]),
        .target(name: "NeuralFXHost",
                dependencies: ["NeuralFXCore", "CJack", "CALSA", "CAllocationCounter"],
                swiftSettings: hotSwift),
        .executableTarget(name: "fxhost",
                          dependencies: ["NeuralFXHost", "CAllocationCounter",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "FXHostTests",
                    dependencies: ["NeuralFXHost", "NeuralFXCore"]),

        .testTarget(name: "NeuralFXCoreTests",
                    dependencies: ["NeuralFXCore", "CAllocationCounter"]),
    ],
    swiftLanguageModes: [.v5]
)
