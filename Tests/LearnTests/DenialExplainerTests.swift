// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor
import Testing

@testable import landlock_exec

/// The lines of `--log-denials` for observed calls, checked against a policy without a kernel.
@Suite("Denial explainer")
struct DenialExplainerTests {
    /// The kernel enforces what `abi` has; with `supervised`, the supervisor enforces the
    /// UDP rights and fs.resolve_unix the kernel lacks.
    static func explainer(abi: LandlockABI = .v7, supervised: Bool = false) -> DenialExplainer {
        var policy = SandboxPolicy()
        policy.implicitFileSystem = FileSystemAccess.all(in: .newest)
        policy.implicitNetwork = NetworkAccess.all(in: .newest)
        policy.implicitScopes = Scope.all(in: .newest)
        policy.paths = [
            .init(path: "/usr", access: FileSystemGrant.rox.access, ignoreIfMissing: false, source: "--rox"),
            .init(path: "/home/u/data", access: FileSystemGrant.rw.access, ignoreIfMissing: false, source: "--rw"),
        ]
        policy.ports = [.init(port: 443, access: .connectTCP, source: "--connect-tcp")]
        let enforcer = { (right: AccessRight) -> Enforcer? in
            if right.introduced <= abi { return .kernel(.landlock(since: right.introduced)) }
            let supervisable = right.auditName == "fs.resolve_unix" || right.kind == .network
            return supervised && supervisable ? .supervisor : nil
        }
        return DenialExplainer(policy: policy, enforcer: enforcer) { $0 }
    }

    static func lines(
        _ subject: Observation.Subject, created: Bool = false, abi: LandlockABI = .v7, supervised: Bool = false
    ) -> [String] {
        explainer(abi: abi, supervised: supervised).lines(for: Observation(subject, created: created, program: "p"))
    }

    @Test func fileDenialsNameTheRightsAndTheOption() {
        #expect(Self.lines(.path("/root/.gitconfig", .readFile)) == [
            "blockers=fs.read_file path=/root/.gitconfig (allowed by --ro /root/.gitconfig)",
        ])
        #expect(Self.lines(.path("/usr/bin/git", [.execute, .readFile])).isEmpty)
        #expect(Self.lines(.path("/usr/lib/x", [.readFile, .writeFile])) == [
            "blockers=fs.write_file path=/usr/lib/x (allowed by --rw /usr/lib/x)",
        ])
        #expect(Self.lines(.path("/home/u/data/run.sh", [.execute, .readFile])) == [
            "blockers=fs.execute path=/home/u/data/run.sh (allowed by --rox /home/u/data/run.sh)",
        ])
        #expect(Self.lines(.path("/home/u", .makeReg)) == ["blockers=fs.make_reg path=/home/u (allowed by --rw /home/u)"])
        #expect(Self.lines(.path("/opt/tool", [.execute, .writeFile])) == [
            "blockers=fs.execute,fs.write_file path=/opt/tool (allowed by --rwx /opt/tool)",
        ])
        // A rule on /home/u/data does not cover /home/u/database.
        #expect(Self.lines(.path("/home/u/database", .readFile)).count == 1)
    }

    @Test func whatTheKernelDoesNotHandleOrACreationIsNotLogged() {
        #expect(Self.lines(.path("/run/app.sock", .resolveUnix)).isEmpty)  // ABI 9
        #expect(Self.lines(.path("/run/app.sock", .resolveUnix), abi: .v9) == [
            "blockers=fs.resolve_unix path=/run/app.sock (allowed by --rw /run/app.sock)",
        ])
        // Before ABI 9 the supervisor enforces it, and does not log it itself.
        #expect(Self.lines(.path("/run/app.sock", .resolveUnix), supervised: true) == [
            "blockers=fs.resolve_unix path=/run/app.sock (allowed by --rw /run/app.sock)",
        ])
        #expect(Self.lines(.path("/etc/new", .writeFile), created: true).isEmpty)
    }

    @Test func networkAndScopeDenials() {
        #expect(Self.lines(.port(80, .connectTCP)) == ["blockers=net.connect_tcp dest=80 (allowed by --connect-tcp 80)"])
        #expect(Self.lines(.port(443, .connectTCP)).isEmpty)
        #expect(Self.lines(.port(8080, .bindTCP)) == ["blockers=net.bind_tcp src=8080 (allowed by --bind-tcp 8080)"])
        // Below ABI 10 the supervisor decides UDP and logs it itself.
        #expect(Self.lines(.port(53, .connectSendUDP), supervised: true).isEmpty)
        #expect(Self.lines(.port(53, .connectSendUDP), abi: .v10) == [
            "blockers=net.connect_send_udp dest=53 (allowed by --connect-udp 53)",
        ])
        #expect(Self.lines(.port(0, .bindUDP), abi: .v10) == ["blockers=net.bind_udp (allowed by --bind-udp 0)"])
        #expect(Self.lines(.crossed(.signal)) == ["blockers=scope.signal (allowed by --unscoped signal)"])
        #expect(Self.lines(.crossed(.abstractUnixSocket)) == [
            "blockers=scope.abstract_unix_socket (allowed by --unscoped abstract-unix-socket)",
        ])
    }
}
