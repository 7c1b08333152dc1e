// SPDX-License-Identifier: Apache-2.0
@testable import Landlock
import LandlockTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The compatibility engine against every kernel ABI from "no Landlock" to "newer than this
/// library", with no kernel involved.
@Suite("Compatibility engine")
struct CompatibilityTests {
    /// A ruleset asking for everything the newest ABI has.
    static func everything(_ level: CompatibilityLevel = .bestEffort) throws -> Ruleset {
        try Ruleset(compatibility: level)
            .handling(FileSystemAccess.all(in: .newest))
            .handling(NetworkAccess.all(in: .newest))
            .scoping(Scope.all(in: .newest))
            .adding(PathBeneath("/usr", FileSystemAccess.read(in: .newest)))
            .adding(NetPort([.connectTCP, .connectSendUDP], port: 53))
    }

    @Test("Best effort drops exactly what each ABI lacks", arguments: 0...12)
    func bestEffort(kernelVersion: Int) throws {
        let mock = MockKernel(abi: kernelVersion == 0 ? .failure(Errno(rawValue: ENOSYS)) : .success(kernelVersion), files: ["/usr": true])
        let created = try Self.everything().create(kernel: mock.kernel)
        let status = try created.restrictSelf()
        guard let abi = LandlockABI(kernelVersion: kernelVersion) else {
            #expect(status.ruleset == .notEnforced)
            #expect(status.landlock == .notImplemented)
            #expect(mock.calls == [.setNoNewPrivileges])
            return
        }
        #expect(status.landlock == .available(effective: abi, kernel: kernelVersion))
        #expect(status.dropped.handledFileSystem == FileSystemAccess.all(in: .newest).unsupported(in: abi))
        #expect(status.dropped.handledNetwork == NetworkAccess.all(in: .newest).unsupported(in: abi))
        #expect(status.dropped.scopes == Scope.all(in: .newest).unsupported(in: abi))
        // ABI 11 adds only a restrict-self flag, which the library replaces with prctl(2).
        #expect(status.ruleset == (abi >= .v10 ? .fullyEnforced : .partiallyEnforced))
        #expect(status.allThreads == (abi >= .v8))
        #expect(status.dropped.restrictSelfFlags == (abi >= .v8 ? [] : .allThreads))
        let net = NetworkAccess.all(in: abi)
        let portAccess = NetworkAccess([.connectTCP, .connectSendUDP]).intersection(net)
        var expected: [MockKernel.Call] = [
            .open("/usr"),
            .createRuleset(
                fs: FileSystemAccess.all(in: abi).rawValue, net: net.rawValue, scoped: Scope.all(in: abi).rawValue,
                quietFS: 0, quietNet: 0, quietScoped: 0, size: abi >= .v6 ? 24 : abi >= .v4 ? 16 : 8),
            .addPathBeneath(access: FileSystemAccess.read(in: abi).rawValue, path: "/usr", flags: 0),
        ]
        if !portAccess.isEmpty { expected.append(.addNetPort(access: portAccess.rawValue, port: 53, flags: 0)) }
        expected += [.close("/usr"), .setNoNewPrivileges, .restrictSelf(flags: abi >= .v8 ? 1 << 3 : 0), .close("<ruleset>")]
        #expect(mock.calls == expected)
        #expect(mock.leakedDescriptors.isEmpty)
    }

    @Test("A hard requirement the kernel does not meet fails before any syscall", arguments: 1...9)
    func hardRequirement(kernelVersion: Int) throws {
        let mock = MockKernel(abi: kernelVersion, files: ["/usr": true])
        let ruleset = Ruleset(compatibility: .hardRequirement)
            .handling(FileSystemAccess.all(in: .v1))
            .handling(NetworkAccess.udp)
        #expect(throws: LandlockError.self) { _ = try ruleset.create(kernel: mock.kernel) }
        #expect(mock.calls.isEmpty)
        do {
            _ = try ruleset.create(kernel: mock.kernel)
        } catch {
            #expect(error.code == .incompatible)
            let abi = LandlockABI(kernelVersion: kernelVersion)!
            #expect(error.description == "Failed to meet a hard requirement for the handled network access: net.bind_udp,net.connect_send_udp needs Landlock ABI 10 (Linux 7.2) but the kernel provides Landlock \(abi) (Linux \(abi.linuxVersion))")
        }
    }

    @Test("A soft requirement not met enforces nothing and creates nothing")
    func softRequirement() throws {
        let mock = MockKernel(abi: 7, files: ["/usr": true])
        let status = try Ruleset()
            .handling(FileSystemAccess.all(in: .v7))
            .handling(NetworkAccess.udp, compatibility: .softRequirement)
            .create(kernel: mock.kernel)
            .restrictSelf()
        #expect(status.ruleset == .notEnforced)
        #expect(status.dropped.handledNetwork == .udp)
        #expect(!mock.calls.contains { if case .createRuleset = $0 { true } else { false } })
        #expect(!mock.calls.contains { if case .restrictSelf = $0 { true } else { false } })
    }

    @Test("Levels apply per request: a best-effort UDP part next to a hard TCP part")
    func mixedLevels() throws {
        let mock = MockKernel(abi: 7)
        let status = try Ruleset(compatibility: .hardRequirement)
            .handling(NetworkAccess.tcp)
            .handling(NetworkAccess.udp, compatibility: .bestEffort)
            .adding(NetPort(.connectSendUDP, port: 53), compatibility: .bestEffort)
            .adding(NetPort(.connectTCP, port: 443))
            .create(kernel: mock.kernel)
            .restrictSelf(compatibility: .bestEffort)
        #expect(status.ruleset == .partiallyEnforced)
        #expect(status.dropped.restrictions == ["net.bind_udp", "net.connect_send_udp"])
        #expect(mock.calls.contains(.addNetPort(access: NetworkAccess.connectTCP.rawValue, port: 443, flags: 0)))
        // The UDP-only rule is left out entirely: the kernel would reject an empty rule.
        #expect(!mock.calls.contains(.addNetPort(access: 0, port: 53, flags: 0)))
        #expect(mock.calls.filter { if case .addNetPort = $0 { true } else { false } }.count == 1)
    }

    @Test("A rule at hard requirement fails when its rights are unknown to the kernel")
    func hardRule() throws {
        let mock = MockKernel(abi: 4)
        let ruleset = try Ruleset()
            .handling(NetworkAccess.all(in: .v10))
            .adding(NetPort(.bindUDP, port: 0), compatibility: .hardRequirement)
        #expect {
            _ = try ruleset.create(kernel: mock.kernel)
        } throws: { error in
            (error as? LandlockError)?.description
                == "Failed to meet a hard requirement for the rule for port 0: net.bind_udp needs Landlock ABI 10 (Linux 7.2) but the kernel provides Landlock ABI 4 (Linux 6.7)"
        }
    }

    @Test("All threads: TSYNC on ABI 8, reported or required below")
    func allThreads() throws {
        for version in [7, 8] {
            let mock = MockKernel(abi: version)
            let status = try Ruleset().handling(FileSystemAccess.all(in: .v1)).create(kernel: mock.kernel).restrictSelf()
            #expect(status.allThreads == (version >= 8))
            #expect(status.ruleset == .fullyEnforced)
        }
        let mock = MockKernel(abi: 7)
        let created = try Ruleset().handling(FileSystemAccess.all(in: .v1)).create(kernel: mock.kernel)
        do {
            _ = try created.restrictSelf(compatibility: .hardRequirement)
            Issue.record("restrictSelf did not throw")
        } catch {
            #expect(error.description
                == "Failed to meet a hard requirement for the restrict-self flags: restrict_self.tsync needs Landlock ABI 8 (Linux 7.0) but the kernel provides Landlock ABI 7 (Linux 6.15)")
        }
        #expect(!mock.calls.contains(.setNoNewPrivileges))
    }

    @Test("No Landlock at all: reported under best effort, an error under a hard requirement")
    func unavailable() throws {
        for (errno, status) in [(ENOSYS, LandlockStatus.notImplemented), (EOPNOTSUPP, .notEnabled)] {
            let mock = MockKernel(abi: .failure(Errno(rawValue: errno)))
            let result = try Ruleset().handling(FileSystemAccess.all(in: .v1)).create(kernel: mock.kernel).restrictSelf()
            #expect(result.ruleset == .notEnforced)
            #expect(result.landlock == status)
            #expect {
                _ = try Ruleset(compatibility: .hardRequirement).handling(FileSystemAccess.all(in: .v1)).create(kernel: mock.kernel)
            } throws: { error in
                (error as? LandlockError)?.description == (errno == ENOSYS
                    ? "Failed to meet a hard requirement for the ruleset: this kernel does not implement Landlock (ENOSYS)"
                    : "Failed to meet a hard requirement for the ruleset: Landlock is not enabled in this kernel (EOPNOTSUPP)")
            }
        }
    }

    @Test("Quiet masks and quiet rules need ABI 10")
    func quiet() throws {
        for version in [7, 10] {
            let mock = MockKernel(abi: version, files: ["/var/log": true])
            let status = try Ruleset()
                .handling(FileSystemAccess.all(in: .v10))
                .handling(NetworkAccess.all(in: .v10))
                .quieting(.readFile, network: .bindTCP)
                .adding(PathBeneath("/var/log", [], quiet: true))
                .create(kernel: mock.kernel)
                .restrictSelf()
            if version >= 10 {
                #expect(status.dropped.isEmpty)
                #expect(mock.calls.contains(.addPathBeneath(access: 0, path: "/var/log", flags: 1)))
                #expect(mock.calls.contains { if case .createRuleset(_, _, _, 0x4, 0x1, 0, 48) = $0 { true } else { false } })
            } else {
                #expect(status.dropped.quietFileSystem == .readFile)
                #expect(status.dropped.quietNetwork == .bindTCP)
                #expect(status.dropped.quietRules == 1)
                #expect(status.ruleset == .partiallyEnforced)  // the UDP rights
                #expect(!mock.calls.contains { if case .addPathBeneath = $0 { true } else { false } })
            }
        }
    }

    @Test("The smallest attribute size that carries every field")
    func attributeSize() {
        var attributes = LandlockKernel.RulesetAttributes()
        attributes.handledFileSystem = 1
        #expect(attributes.size == 8)
        attributes.handledNetwork = 1
        #expect(attributes.size == 16)
        attributes.scoped = 1
        #expect(attributes.size == 24)
        attributes.quietScoped = 1
        #expect(attributes.size == 48)
    }
}
