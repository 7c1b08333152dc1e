// SPDX-License-Identifier: Apache-2.0
public import Landlock

// swift-testing is part of the toolchain's shared runtime only: a build with
// --static-swift-stdlib (the README's release flags) has no Testing module. This target is a
// regular one (test targets cannot be shared), so it builds without the traits there; the
// test targets that use them are built only with the tests.
#if canImport(Testing)
public import Testing
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The kernel the tests run on, and what the environment says it should be.
public enum TestKernel {
    /// The Landlock ABI of the running kernel (0 when Landlock is unavailable).
    public static var abi: Int {
        if case .available(_, let kernel) = LandlockStatus.current { return kernel }
        return 0
    }

    /// The ABI that CI pins with `LANDLOCK_TEST_ABI`, or `nil` on a developer machine where
    /// it is not set. When set, a test fails if the running kernel differs, so that a
    /// misconfigured runner cannot skip kernel tests silently.
    public static var expectedABI: Int? {
        guard let value = getenv("LANDLOCK_TEST_ABI") else { return nil }
        return Int(String(cString: value))
    }
}

#if canImport(Testing)
/// Skips a test, with the reason, when the running kernel lacks a Landlock ABI.
public struct RequiresLandlockTrait: TestTrait, SuiteTrait, TestScoping {
    public let abi: LandlockABI

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let running = TestKernel.abi
        guard running >= abi.rawValue else {
            try Test.cancel("Requires Landlock \(abi) (Linux \(abi.linuxVersion)); the running kernel provides \(running == 0 ? "no Landlock" : "ABI \(running)")")
        }
        try await function()
    }
}

extension Trait where Self == RequiresLandlockTrait {
    /// Runs the test only on kernels with at least `abi`; otherwise it is skipped with a reason.
    public static func requiresLandlock(_ abi: LandlockABI) -> Self { RequiresLandlockTrait(abi: abi) }
}
#endif
