// swift-tools-version:6.0
import Foundation
import PackageDescription

// The arithmetic-heavy modules are built for the CPU they run on: without a
// target CPU, SIMD fused multiply-adds become library calls (measured ~170x
// slower on these machines). `NEURALFX_PORTABLE=1` builds for every x86-64 CPU
// with AVX2 and FMA (x86-64-v3: Intel Haswell and AMD Zen onwards, about 2015),
// so a binary can move between machines. Swift 6.3's LLVM takes no
// `x86-64-v3` as a target CPU, so Swift code names Haswell, the first CPU with
// that instruction set. aarch64 always has FMA and needs no flag.
let portable = Context.environment["NEURALFX_PORTABLE"] == "1"
// `NEURALFX_CHECKED=1` keeps Swift's overflow and bounds checks in the hot
// modules (fuzzing and sanitizer builds want them; -Ounchecked drops them).
let checked = Context.environment["NEURALFX_CHECKED"] == "1"
// `NEURALFX_TARGET_CPU=znver3` (with `NEURALFX_VECTOR256=1` for a CPU without
// AVX-512) builds for another CPU: to measure what a native build does there.
let targetCPU = Context.environment["NEURALFX_TARGET_CPU"]
#if arch(x86_64)
let (swiftCPU, cArch): (String?, String?) = targetCPU.map { ($0, $0) } ?? (portable ? ("haswell", "x86-64-v3") : ("native", "native"))
#else
let (swiftCPU, cArch): (String?, String?) = portable ? (nil, nil) : ("native", "native")
#endif
// Kernels are tiled for the vector registers the build has: 256-bit ones
// (AVX2) for the portable build and for a native build on a CPU without
// AVX-512, read from /proc/cpuinfo.
#if arch(x86_64)
let hostHasAVX512 = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").contains(" avx512f")
let vector256 = portable || Context.environment["NEURALFX_VECTOR256"] == "1" || !hostHasAVX512
#else
let vector256 = false
#endif
let hotSwift: [SwiftSetting] = [.unsafeFlags((swiftCPU.map { ["-target-cpu", $0] } ?? []) + (checked ? [] : ["-Ounchecked"]))]
    + (portable ? [.define("NEURALFX_PORTABLE")] : []) + (vector256 ? [.define("NEURALFX_VECTOR256")] : [])
let hotC: [CSetting] = [.unsafeFlags((cArch.map { ["-march=\($0)"] } ?? []) + ["-O3"])]

// The LV2 plugin's binary carries the Swift runtime and Foundation inside it:
// static archives carry no dependencies of their own, so Foundation's are
// named here; --no-undefined makes any symbol still missing a link error
// rather than a host that fails to load the plugin.
// Sanitizer builds (`make test-sanitize` sets NEURALFX_SANITIZE=1) leave the
// sanitizer's runtime to the process that loads the plugin, so they drop
// --no-undefined (its __asan_/__tsan_ entry points stay undefined).
let sanitizing = Context.environment["NEURALFX_SANITIZE"] == "1"
let staticRuntime = ["-static-stdlib", "-Xlinker", "--exclude-libs=ALL"] + (sanitizing ? [] : ["-Xlinker", "--no-undefined"]) + [
                     "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/NeuralFXPlugin/exports.map",
                     "-lFoundation", "-lFoundationInternationalization", "-lFoundationEssentials", "-lCoreFoundation",
                     "-l_FoundationICU", "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftDispatch", "-ldispatch",
                     "-lBlocksRuntime", "-lswiftSynchronization", "-lstdc++", "-lm"]

/// The fuzzed readers; `make fuzz` builds and runs `fuzz-<name>` for each.
let fuzzTargets = ["safetensors", "nam", "preset", "dataset-manifest", "native-manifest", "midi", "capture-plan"]

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
        // The LV2 plugin binary (the Makefile puts it in the neuralfx.lv2 bundle).
        .library(name: "neuralfx_lv2", type: .dynamic, targets: ["NeuralFXPlugin"]),
        // Tests preload it into plugin hosts to count allocations in run().
        .library(name: "nfx_allocation_counter", type: .dynamic, targets: ["CAllocationCounter"]),
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

        // Sample-rate conversion (libsamplerate), one converter for offline renders and live
        // streams alike, so both give the same samples. C enters here only.
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .target(name: "NeuralFXResampling", dependencies: ["CSampleRate"], swiftSettings: hotSwift),
        // Audio files (libsndfile), loudness. C enters here only.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .target(name: "NeuralFXAudio", dependencies: ["CSndFile"], swiftSettings: hotSwift),
        .testTarget(name: "NeuralFXAudioTests", dependencies: ["NeuralFXAudio", "NeuralFXResampling", "CAllocationCounter"]),

        // Model/preset catalog and the offline render pipeline shared by the executables.
        .target(name: "NeuralFXTools", dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXAudio", "NeuralFXResampling"]),
        .executableTarget(name: "fxrender",
                          dependencies: ["NeuralFXTools", "NeuralFXModelFiles", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "NeuralFXToolsTests", dependencies: ["NeuralFXTools", "NeuralFXAudio", "NeuralFXResampling", "NeuralFXCore"]),
        // Runs the built fxrender (a dependency so that `swift test` builds it).
        .testTarget(name: "FXRenderTests",
                    dependencies: ["fxrender", "NeuralFXTools", "NeuralFXModelFiles", "NeuralFXAudio", "NeuralFXResampling", "NeuralFXCore",
                                   "NeuralFXDevices"]),

        // Reference devices (optical compressor, overdrive) and the paired
        // datasets rendered from them.
        .target(name: "NeuralFXDevices",
                dependencies: ["NeuralFXCore", .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        .target(name: "NeuralFXDatasets",
                dependencies: ["NeuralFXCore", "NeuralFXDevices", "NeuralFXAudio", "NeuralFXResampling",
                               .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: hotSwift),
        // A model against its reference device: per-knob error tables and plots.
        .target(name: "NeuralFXEvaluation",
                dependencies: ["NeuralFXDevices", "NeuralFXTraining", "NeuralFXAudio", "NeuralFXCore"]),
        .testTarget(name: "NeuralFXEvaluationTests",
                    dependencies: ["NeuralFXEvaluation", "NeuralFXDevices", "NeuralFXDatasets", "NeuralFXTraining", "NeuralFXCore",
                                   "NeuralFXModelFiles"]),
        // Capturing real gear (issue 20): the capture signal, calibration checks, knob plans,
        // session state and the dataset folder; pure, no audio I/O (NeuralFXHost plays and records).
        .target(name: "NeuralFXCapture",
                dependencies: ["NeuralFXDatasets", "NeuralFXTraining", "NeuralFXAudio", "NeuralFXCore"]),
        .executableTarget(name: "fxtrain",
                          dependencies: ["NeuralFXDatasets", "NeuralFXDevices", "NeuralFXTraining", "NeuralFXModelFiles",
                                         "NeuralFXEvaluation", "NeuralFXAudio", "NeuralFXCore", "NeuralFXDistributed",
                                         "NeuralFXCapture", "NeuralFXHost",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // fxtrain capture against real servers and devices: jackd -d dummy with the la2a
        // simulation standing in for the gear, ALSA's file plugin, the bad cases.
        .testTarget(name: "CaptureTests",
                    dependencies: ["fxtrain", "NeuralFXCapture", "NeuralFXHost", "NeuralFXDevices", "NeuralFXDatasets",
                                   "NeuralFXTraining", "NeuralFXAudio", "NeuralFXCore"]),
        .testTarget(name: "NeuralFXDevicesTests",
                    dependencies: ["NeuralFXDevices", "NeuralFXCore", "CAllocationCounter", "NeuralFXModelFiles"]),
        .testTarget(name: "NeuralFXDatasetsTests",
                    dependencies: ["NeuralFXDatasets", "NeuralFXDevices", "NeuralFXAudio", "NeuralFXCore"]),
        // Runs the built fxtrain (a dependency so that `swift test` builds it).
        .testTarget(name: "FXTrainTests",
                    dependencies: ["fxtrain", "NeuralFXDatasets", "NeuralFXAudio", "NeuralFXCore", "NeuralFXModelFiles",
                                   "NeuralFXTraining"]),
        // What runs live, host-neutral: engine sets with resampling, the crossfading
        // processor, lock-free rings. fxhost and the LV2 plugin share it.
        .target(name: "NeuralFXLive", dependencies: ["NeuralFXCore", "NeuralFXResampling"], swiftSettings: hotSwift),
        // The LV2 plugin: C enters through CLV2 (header-only); the Swift runtime is
        // linked in statically, and only lv2_descriptor is exported, so the .so loads
        // in any host without a Swift toolchain.
        .systemLibrary(name: "CLV2", pkgConfig: "lv2", providers: [.apt(["lv2-dev"])]),
        .target(name: "NeuralFXPlugin",
                dependencies: ["NeuralFXLive", "NeuralFXModelFiles", "NeuralFXCore", "CLV2"],
                exclude: ["exports.map"],
                swiftSettings: hotSwift,
                linkerSettings: [.unsafeFlags(staticRuntime)]),
        // Writes the bundle's Turtle from the plugin's port layout and the bundled models' knobs.
        .executableTarget(name: "fxlv2ttl", dependencies: ["NeuralFXPlugin", "NeuralFXModelFiles", "NeuralFXCore"]),
        // Runs the built bundle in real hosts: lv2ls, lv2info, lv2apply, jalv.
        .testTarget(name: "PluginTests",
                    dependencies: ["fxrender", "NeuralFXHost", "NeuralFXLive", "NeuralFXModelFiles", "NeuralFXAudio", "NeuralFXCore",
                                   "CLV2", "CAllocationCounter"]),
        // Live hosting: JACK and ALSA through system-library targets, wrapped once in NeuralFXHost.
        .systemLibrary(name: "CJack", pkgConfig: "jack", providers: [.apt(["libjack-jackd2-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .target(name: "NeuralFXHost",
                dependencies: ["NeuralFXLive", "NeuralFXCore", "NeuralFXTools", "CJack", "CALSA", "CAllocationCounter"],
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
        .testTarget(name: "NeuralFXTrainingTests",
                    dependencies: ["NeuralFXTraining", "NeuralFXCore", "NeuralFXAudio", "NeuralFXDevices", "NeuralFXDatasets",
                                   "NeuralFXModelFiles"]),
        // Training across processes (issue 18): Open MPI through one system-library target, wrapped once.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "NeuralFXDistributed", dependencies: ["CMPI"]),

        // Fuzzing (issue 19): the fuzzed readers behind one function each, a
        // libFuzzer executable per reader (`make fuzz`; a file replayer in a
        // normal build), and the test that replays the seed and regression corpora.
        .target(name: "NeuralFXFuzzing",
                dependencies: ["NeuralFXCore", "NeuralFXModelFiles", "NeuralFXTools", "NeuralFXDatasets",
                               "NeuralFXTraining", "NeuralFXHost", "NeuralFXCapture"]),
    ] + fuzzTargets.map { .executableTarget(name: "fuzz-\($0)", dependencies: ["NeuralFXFuzzing"]) } + [
        .testTarget(name: "FuzzReplayTests", dependencies: ["NeuralFXFuzzing"]),
    ],
    swiftLanguageModes: [.v5]
)
