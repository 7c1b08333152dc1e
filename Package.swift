// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Test targets leave out InternalImportsByDefault: with it, swift-testing's @Test and @Suite
// macro expansions fail to build ("'@const' value should be initialized with a compile-time
// value") on Swift 6.3.
let testSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-landlock",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Landlock", targets: ["Landlock"]),
        .library(name: "LandlockSupervisor", targets: ["LandlockSupervisor"]),
        .executable(name: "landlock-exec", targets: ["landlock-exec"]),
        .executable(name: "landlock-probe", targets: ["landlock-probe"]),
        .executable(name: "landlock-bench", targets: ["landlock-bench"]),
        .executable(name: "swift-exec-floor", targets: ["swift-exec-floor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The C shim: vendored UAPI, fixed-arity syscall wrappers, the post-fork child.
        // Not API: imported with `internal import` only.
        .target(name: "CLandlock"),
        // POSIX helpers shared by the targets (environment, PATH search, writes, clocks).
        // Internal: not a product, every declaration `package`.
        .target(name: "SandboxSupport", swiftSettings: strictSettings),
        // The kernel API: rights, rules, rulesets, compatibility, status, errors.
        .target(
            name: "Landlock",
            dependencies: ["CLandlock", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSettings),
        // User-space enforcement of the ABI 10 UDP rights on older kernels (seccomp user
        // notification), and the API that starts sandboxed child processes.
        .target(
            name: "LandlockSupervisor", dependencies: ["Landlock", "CLandlock", "SandboxSupport"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "landlock-exec",
            dependencies: ["Landlock", "LandlockSupervisor", "SandboxSupport"],
            // Generic types' metadata through direct accessors, not runtime demangling of their
            // mangled names: no conformance scan of the whole binary on a first `[String: Int]`
            // (about 0.05 ms of start-up). Not on the library targets: unsafe flags would bar
            // them from packages that depend on this one by version.
            swiftSettings: strictSettings + [
                .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])
            ],
            // The release build is what users install: without its symbol and debug tables
            // (9 MB instead of 19 MB), and without the 2,600 public symbols of the linked
            // library modules in its dynamic symbol table (swiftc exports them by default: the
            // loader and the runtime's start-up `dladdr` then search them). Debug builds keep both.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--strip-all", "-Xlinker", "--no-export-dynamic"], .when(configuration: .release))]),
        // Runs one row of the network conformance table (Conformance/) under a policy.
        .executableTarget(
            name: "landlock-probe", dependencies: ["Landlock", "LandlockSupervisor", "SandboxSupport"],
            swiftSettings: strictSettings),
        // Workloads for the benchmarks (Benchmarks/run.sh compares them with and without a sandbox).
        .executableTarget(
            name: "landlock-bench", dependencies: ["Landlock", "LandlockSupervisor", "SandboxSupport"],
            path: "Benchmarks/landlock-bench", swiftSettings: strictSettings),
        // The start-up floor of a static Swift tool (execv's its argument), beside landlock-exec.
        .executableTarget(name: "swift-exec-floor", path: "Benchmarks/swift-exec-floor", swiftSettings: strictSettings),
        .target(
            name: "LandlockTestSupport",
            dependencies: ["Landlock", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "LandlockTests", dependencies: ["Landlock", "LandlockSupervisor", "LandlockTestSupport"],
            swiftSettings: testSettings),
        .testTarget(
            name: "LandlockKernelTests", dependencies: ["Landlock", "LandlockTestSupport", "CLandlock"],
            swiftSettings: testSettings),
        .testTarget(
            name: "SupervisorTests",
            dependencies: ["LandlockSupervisor", "Landlock", "LandlockTestSupport", "SandboxSupport"],
            swiftSettings: testSettings),
        // The pure parts of landlock-exec (the policy learner), through @testable import.
        .testTarget(
            name: "LearnTests", dependencies: ["landlock-exec", "Landlock", "LandlockSupervisor"],
            swiftSettings: testSettings),
        .testTarget(
            name: "SandboxCLITests", dependencies: ["LandlockTestSupport"], swiftSettings: testSettings),
        // Builds nothing itself: checks that Snippets/ (built with the tests) still equals the
        // README's and the DocC articles' examples, and runs them.
        .testTarget(name: "ExampleTests", dependencies: ["LandlockTestSupport"], swiftSettings: testSettings),
    ]
)
