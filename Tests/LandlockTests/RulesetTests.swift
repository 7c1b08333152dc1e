// SPDX-License-Identifier: Apache-2.0
@testable import Landlock
import LandlockTestSupport
import SystemPackage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Ruleset validation, rules and errno mapping")
struct RulesetTests {
    let base = Ruleset().handling(FileSystemAccess.all(in: .v7)).handling(NetworkAccess.all(in: .v10))

    /// The sentence of the error `body` throws.
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("Ports are checked when the rule is added", arguments: [-1, 65536, 70000])
    func invalidPort(port: Int) {
        #expect(message { _ = try base.adding(NetPort(.bindTCP, port: port)) }
            == "Failed to add a rule for port \(port): ports range from 0 to 65535")
        #expect(throws: Never.self) { _ = try base.adding(NetPort(.bindTCP, port: 65535)) }
        #expect(throws: Never.self) { _ = try base.adding(NetPort(.bindTCP, port: 0)) }
    }

    @Test("Caller mistakes get their own codes and sentences")
    func callerMistakes() throws {
        #expect(message { _ = try base.adding(PathBeneath("/usr", [])) }
            == "Failed to add a rule for \"/usr\": it allows no access right")
        #expect(message { _ = try Ruleset().handling(FileSystemAccess.readFile).adding(PathBeneath("/usr", .readDir)) }
            == "Failed to add a rule for \"/usr\": fs.read_dir is not handled by the ruleset; handle it before adding the rule")
        #expect(message { _ = try Ruleset().handling(NetworkAccess.tcp).adding(NetPort(.bindUDP, port: 53)) }
            == "Failed to add a rule for port 53: net.bind_udp is not handled by the ruleset; handle it before adding the rule")
        #expect(message { _ = try Ruleset().handling(NetworkAccess.tcp).quieting(network: .bindUDP) }
            == "Failed to set the quiet mask: net.bind_udp is not handled by the ruleset")
        #expect(message { _ = try Ruleset().create(kernel: MockKernel(abi: 7).kernel) }
            == "Failed to create the ruleset: it handles no access right and no scope")
        #expect(message { _ = try base.adding(PathBeneath("/usr", FileSystemAccess(rawValue: 1 << 40))) }
            == "Failed to add a rule for \"/usr\": 0x10000000000 has bits no ABI defines")
    }

    @Test("A missing path is an error naming it, unless it may be ignored; nothing leaks")
    func missingPath() throws {
        let mock = MockKernel(abi: 7, files: ["/usr": true])
        let ruleset = try base.adding(PathBeneath("/usr", .readFile)).adding(PathBeneath("/nonexistent", .readFile))
        #expect(message { _ = try ruleset.create(kernel: mock.kernel) }
            == "Failed to open \"/nonexistent\" for a rule: No such file or directory (ENOENT)")
        #expect(mock.leakedDescriptors.isEmpty)
        #expect(!mock.calls.contains { if case .createRuleset = $0 { true } else { false } })

        let ignoring = MockKernel(abi: 7, files: ["/usr": true])
        let status = try base.adding(PathBeneath("/nonexistent", .readFile, ignoreIfMissing: true))
            .adding(PathBeneath("/usr", .readFile))
            .create(kernel: ignoring.kernel).restrictSelf()
        #expect(status.ignoredPaths == ["/nonexistent"])
        #expect(ignoring.leakedDescriptors.isEmpty)
    }

    @Test("Directory-only rights on a file are dropped, or rejected under a hard requirement")
    func fileRules() throws {
        let mock = MockKernel(abi: 7, files: ["/etc/hosts": false])
        _ = try base.adding(PathBeneath("/etc/hosts", FileSystemAccess.all(in: .v7))).create(kernel: mock.kernel)
        #expect(mock.calls.contains(.addPathBeneath(access: FileSystemAccess.fileApplicable(in: .v7).rawValue, path: "/etc/hosts", flags: 0)))

        let strict = MockKernel(abi: 7, files: ["/etc/hosts": false])
        #expect(message {
            _ = try base.adding(PathBeneath("/etc/hosts", [.readFile, .readDir]), compatibility: .hardRequirement).create(kernel: strict.kernel)
        } == "Failed to add a rule for \"/etc/hosts\": fs.read_dir only applies to directories, and it is a file")
        #expect(strict.leakedDescriptors.isEmpty)
    }

    @Test("Errnos map to codes; impossible ones are reported as bugs")
    func errnoMapping() throws {
        let cases: [(String, Int32, LandlockError.Code, String)] = [
            ("create", ENOMEM, .createRulesetFailed, "Failed to create the ruleset: Cannot allocate memory (ENOMEM)"),
            ("create", EINVAL, .internalInconsistency, "Failed to create the ruleset: the kernel rejected arguments this library computed (EINVAL). This is a bug in swift-landlock; please report it"),
            ("add", EAFNOSUPPORT, .addRuleFailed, "Failed to add a rule for port 53: Address family not supported by protocol (EAFNOSUPPORT)"),
            ("add", EBADF, .internalInconsistency, "Failed to add a rule for port 53: the kernel rejected arguments this library computed (EBADF). This is a bug in swift-landlock; please report it"),
            ("restrict", E2BIG, .tooManyLayers, "Failed to restrict the process: it already has the maximum of 16 Landlock layers: Argument list too long (E2BIG)"),
            ("restrict", EPERM, .restrictSelfFailed, "Failed to restrict the process: it needs no_new_privs or CAP_SYS_ADMIN: Operation not permitted (EPERM)"),
            ("restrict", EINTR, .restrictSelfFailed, "Failed to restrict the process: Interrupted system call (EINTR)"),
            ("nnp", EINVAL, .setNoNewPrivilegesFailed, "Failed to set no_new_privs: Invalid argument (EINVAL)"),
        ]
        for (call, errno, code, sentence) in cases {
            let mock = MockKernel(abi: 7, failures: [call: Errno(rawValue: errno)])
            do {
                _ = try base.adding(NetPort(.connectTCP, port: 53)).create(kernel: mock.kernel).restrictSelf()
                Issue.record("\(call) failing with \(errno) did not throw")
            } catch {
                #expect(error.code == code)
                #expect(error.underlyingError == (code == .internalInconsistency ? nil : Errno(rawValue: errno)))
                #expect(error.description == sentence)
            }
            #expect(mock.leakedDescriptors.isEmpty)
        }
    }

    @Test("Rules for the same port merge in the kernel; each is passed as given")
    func rulesKeepOrder() throws {
        let mock = MockKernel(abi: 10)
        _ = try base.adding(NetPort(.connectTCP, port: 53)).adding(NetPort(.connectSendUDP, port: 53)).create(kernel: mock.kernel)
        #expect(mock.calls.filter { if case .addNetPort = $0 { true } else { false } } == [
            .addNetPort(access: NetworkAccess.connectTCP.rawValue, port: 53, flags: 0),
            .addNetPort(access: NetworkAccess.connectSendUDP.rawValue, port: 53, flags: 0),
        ])
    }

    @Test("Status descriptions")
    func statusText() {
        var dropped = DroppedRequests()
        dropped.handledNetwork = .udp
        dropped.restrictSelfFlags = .allThreads
        let status = RestrictionStatus(
            ruleset: .partiallyEnforced, landlock: .available(effective: .v7, kernel: 7), noNewPrivileges: true,
            allThreads: false, dropped: dropped)
        #expect(status.description == "partially enforced at ABI 7 (dropped: net.bind_udp, net.connect_send_udp, restrict_self.tsync); calling thread only; no_new_privs")
        #expect(LandlockStatus.available(effective: .v11, kernel: 12).description == "Landlock ABI 12 is available (used as ABI 11)")
        #expect(LandlockStatus.notEnabled.description == "Landlock is not enabled in this kernel (EOPNOTSUPP)")
    }
}
