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

/// Every long-running service is a `Service` of swift-service-lifecycle.
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

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
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; only their wrappers import them.
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // Header only: Inference opens libdnnl with dlopen, so a host without it still runs fp32.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // Duration conversions, written once; no dependencies.
        .target(name: "TimeUnits", dependencies: [], swiftSettings: strictSettings),

        // Safe wrappers.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ", "TimeUnits"], swiftSettings: strictSettings),
        .target(name: "Sodium", dependencies: ["CSodium"], swiftSettings: strictSettings),

        // Domain libraries.
        .target(name: "Wire", dependencies: [], swiftSettings: strictSettings),
        // Prometheus text exposition, the small HTTP endpoint every service serves it on, and the
        // one-line log handler every command bootstraps.
        .target(
            name: "Observability",
            dependencies: [.product(name: "Logging", package: "swift-log"), serviceLifecycle],
            swiftSettings: strictSettings),
        // The model's kernels are optimised even in debug builds: unoptimised Swift loops are ~20x
        // slower, which would make every end-to-end test wait on arithmetic.
        .target(
            name: "Inference", dependencies: ["COpenBLAS", "CDNNL"],
            swiftSettings: strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(
            name: "Attestation",
            dependencies: [
                "Sodium", "Wire",
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
                "Sodium", "ZeroMQ", "Wire", "Attestation", "Trust", "Observability", "TimeUnits",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        // The gateway links no module that can open a sealed box: it never holds a key.
        .target(
            name: "Gateway",
            // Ed25519 verification only (swift-crypto's `Curve25519.Signing`): replicas' certificates.
            dependencies: [
                "ZeroMQ", "Wire", "Observability", "TimeUnits", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"), serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        // The pipeline as an operator writes it: a pure model of the topology file (no service
        // imports; the mapping to gateway and broker configuration is the command's wiring).
        .target(
            name: "Topology",
            dependencies: ["Sodium", "Attestation", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // A node's side of the broker protocol: attest, fetch and verify the manifest. Links no
        // store, so a stage node never carries the broker's database code.
        .target(
            name: "BrokerClient",
            dependencies: ["Sodium", "ZeroMQ", "Attestation", "Trust"],
            swiftSettings: strictSettings
        ),
        // What every stage runs: receive, check and open hops, batch, compute, seal and sign.
        .target(
            name: "StageRuntime",
            dependencies: [
                "Sodium", "ZeroMQ", "Wire", "Observability", "TimeUnits",
                .product(name: "Logging", package: "swift-log"),
                serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        // The model's stages as workloads of the stage runtime, and a worker's sealed shard.
        .target(
            name: "Workloads",
            dependencies: ["Sodium", "Inference", "Trust", "Topology", "StageRuntime"],
            swiftSettings: strictSettings
        ),
        // A stage node's start-up: attestation, keys, workload, and key rotation (a state machine
        // and the service that drives it).
        .target(
            name: "Node",
            dependencies: [
                "Sodium", "ZeroMQ", "Attestation", "Trust", "Inference", "Topology", "BrokerClient", "StageRuntime",
                "Workloads", "TimeUnits", .product(name: "Logging", package: "swift-log"), serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        // `sealpipe launch`: prepares a host (keys, sealed shards) and supervises its processes.
        .target(
            name: "Launcher",
            dependencies: [
                "Sodium", "Attestation", "Trust", "Inference", "KeyBroker", "Topology", "Workloads", "TimeUnits",
                .product(name: "Logging", package: "swift-log"), serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        // Deployment manifests from a topology (Kubernetes with Confidential Containers, podman):
        // pure, topology in, objects and YAML text out.
        .target(name: "Deploy", dependencies: ["Topology", "Attestation", "Sodium"], swiftSettings: strictSettings),
        .target(
            name: "SealpipeClient",
            dependencies: [
                "Sodium", "ZeroMQ", "Wire", "Trust", "Observability", "BrokerClient", "TimeUnits",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),

        // The one command.
        .executableTarget(
            name: "sealpipe",
            dependencies: [
                "ZeroMQ", "Sodium", "Wire", "Inference", "Attestation", "Trust", "KeyBroker", "Gateway",
                "Observability",
                "Topology", "BrokerClient", "StageRuntime", "Workloads", "Node", "Launcher", "SealpipeClient",
                "TimeUnits",
                "Deploy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // Tests: one target per library, plus end-to-end. `TestVectors` finds the vendored public
        // vectors in Tests/Fixtures/vectors for the targets that check against them.
        .target(name: "TestVectors", path: "Tests/TestVectors", swiftSettings: strictSettings),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"], swiftSettings: strictSettings),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium", "TestVectors"], swiftSettings: strictSettings),
        .testTarget(name: "WireTests", dependencies: ["Wire"], swiftSettings: strictSettings),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: ["Observability", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "InferenceTests", dependencies: ["Inference"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(
            name: "AttestationTests",
            dependencies: ["Attestation", "Sodium", "TestVectors", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "TrustTests", dependencies: ["Trust", "Attestation", "Wire", "Sodium", "TestVectors"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Wire", "Observability", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"), serviceLifecycle,
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "KeyBrokerTests",
            dependencies: [
                "KeyBroker", "BrokerClient", "Trust", "Attestation", "Sodium", "ZeroMQ", "Wire", "TestVectors",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SealpipeClientTests", dependencies: ["SealpipeClient", "Wire", "Observability"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "StageRuntimeTests", dependencies: ["StageRuntime", "Sodium", "Wire"], swiftSettings: strictSettings),
        .testTarget(
            name: "TopologyTests",
            dependencies: ["Topology", "Attestation", "Sodium"],
            swiftSettings: strictSettings),
        .testTarget(name: "NodeTests", dependencies: ["Node", "Trust"], swiftSettings: strictSettings),
        .testTarget(name: "LauncherTests", dependencies: ["Launcher", "Topology"], swiftSettings: strictSettings),
        // A whole topology in one process: stage runtimes, workloads and the gateway over inproc.
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Topology", "StageRuntime", "Workloads", "Node", "Gateway", "SealpipeClient", "Sodium", "ZeroMQ",
                "Wire",
                "Trust", "Attestation", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "DeployTests", dependencies: ["Deploy", "Topology", "KeyBroker", "Attestation", "Trust", "Sodium"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "SealpipeClient", "BrokerClient", "Attestation", "Sodium", "ZeroMQ", "Wire", "Trust", "Observability",
                "Inference",
            ],
            swiftSettings: strictSettings),
    ]
)
