// swift-tools-version:6.1
import PackageDescription

/// Sealpipe: confidential inference as a pipeline of attested services over ZeroMQ.
///
/// Arrows point one way: C system libraries → their one Swift wrapper (ZeroMQ, Sodium,
/// Inference's BLAS use) → domain libraries → services → the `sealpipe` command.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Sealpipe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sealpipe", targets: ["sealpipe"]),
        .library(name: "SealpipeClient", targets: ["SealpipeClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; only their wrappers import them.
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Safe wrappers.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strictSettings),
        .target(name: "Sodium", dependencies: ["CSodium"], swiftSettings: strictSettings),

        // Domain libraries.
        .target(name: "Wire", dependencies: [], swiftSettings: strictSettings),
        // Prometheus text exposition and the small HTTP endpoint every service serves it on.
        .target(name: "Observability", dependencies: [], swiftSettings: strictSettings),
        // The model's kernels are optimised even in debug builds: unoptimised Swift loops are ~20x
        // slower, which would make every end-to-end test wait on arithmetic.
        .target(
            name: "Inference", dependencies: ["COpenBLAS"],
            swiftSettings: strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(
            name: "Attestation",
            dependencies: [
                "Sodium",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // Pure trust protocol: Merkle log, tree heads, manifest, key-broker messages, sealed weights.
        .target(
            name: "Trust",
            dependencies: ["Sodium", "Wire", "Attestation"],
            swiftSettings: strictSettings
        ),

        // Services.
        .target(
            name: "KeyBroker",
            dependencies: [
                "Sodium", "ZeroMQ", "Wire", "Attestation", "Trust", "Observability",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The gateway links no module that can open a sealed box: it never holds a key.
        .target(
            name: "Gateway",
            dependencies: ["ZeroMQ", "Wire", "Observability", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "Sodium", "ZeroMQ", "Wire", "Attestation", "Trust", "KeyBroker", "Inference", "Gateway", "Observability",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Deployment manifests from a topology (Kubernetes with Confidential Containers, podman):
        // pure, topology in, objects and YAML text out.
        .target(name: "Deploy", dependencies: ["Pipeline", "Attestation", "Sodium"], swiftSettings: strictSettings),
        .target(
            name: "SealpipeClient",
            dependencies: [
                "Sodium", "ZeroMQ", "Wire", "Trust", "Observability", .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),

        // The one command.
        .executableTarget(
            name: "sealpipe",
            dependencies: [
                "ZeroMQ", "Sodium", "Wire", "Inference", "Attestation", "Trust", "KeyBroker", "Gateway", "Observability",
                "Pipeline", "SealpipeClient", "Deploy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),

        // Tests: one target per library, plus end-to-end. `TestVectors` finds the vendored public
        // vectors in Tests/Fixtures/vectors for the targets that check against them.
        .target(name: "TestVectors", path: "Tests/TestVectors", swiftSettings: strictSettings),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: strictSettings),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium", "TestVectors"], swiftSettings: strictSettings),
        .testTarget(name: "WireTests", dependencies: ["Wire"], swiftSettings: strictSettings),
        .testTarget(name: "ObservabilityTests", dependencies: ["Observability"], swiftSettings: strictSettings),
        .testTarget(name: "InferenceTests", dependencies: ["Inference"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "AttestationTests", dependencies: ["Attestation", "Sodium", "TestVectors"], swiftSettings: strictSettings),
        .testTarget(name: "TrustTests", dependencies: ["Trust", "Sodium", "TestVectors"], swiftSettings: strictSettings),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "ZeroMQ", "Wire"], swiftSettings: strictSettings),
        .testTarget(
            name: "KeyBrokerTests", dependencies: ["KeyBroker", "Trust", "Attestation", "Sodium", "ZeroMQ", "Wire"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "PipelineTests", dependencies: ["Pipeline", "SealpipeClient", "Sodium", "ZeroMQ", "Wire"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "DeployTests", dependencies: ["Deploy", "Pipeline", "KeyBroker", "Attestation", "Trust", "Sodium"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "EndToEndTests", dependencies: ["SealpipeClient", "Sodium", "ZeroMQ", "Wire", "Trust", "Observability", "Inference"],
            swiftSettings: strictSettings),
    ]
)
