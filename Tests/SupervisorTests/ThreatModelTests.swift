// SPDX-License-Identifier: Apache-2.0
//
// Adversarial tests of the supervisor's threat model (shared/spec/supervisor-threat-model.md)
// through the library (`SandboxedCommand`): the findings of issue 10 that a program can play
// against a supervisor running in the test process (or, where the attack would take the
// supervisor down, in an exit test). The landlock-exec side is in
// Tests/SandboxCLITests/ThreatModelCLITests.swift. The sandboxed program is the attack helper,
// Helpers/attack_helper.c.txt.
import Landlock
import LandlockTestSupport
import Testing

@testable import LandlockSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// The attack helper (Helpers/attack_helper.c.txt), built once with gcc as a static binary, in
/// a directory everyone may enter (some tests run it as nobody).
let attackHelper: String? = buildCHelper(source: String(#filePath.dropLast("ThreatModelTests.swift".count)) + "Helpers/attack_helper.c.txt", named: "attack_helper")

/// Runs the attack helper with `arguments` in a sandbox of `ruleset`; returns its termination
/// and what it reported (on a pipe passed as `$ATTACK_OUT_FD`).
func runAttack(
    _ arguments: [String], _ ruleset: Ruleset, udp: UDPEnforcement = .supervisor,
    configure: (inout SandboxedCommand) -> Void = { _ in }
) throws -> (TerminationStatus, String) {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    defer { close(fds[0]) }
    var command = SandboxedCommand(
        executable: attackHelper!, arguments: arguments, environment: ["ATTACK_OUT_FD=\(fds[1])", "PATH=/usr/bin:/bin"],
        ruleset: ruleset, udp: udp)
    command.compatibility = .bestEffort
    command.inheritedFileDescriptors = [fds[1]]
    configure(&command)
    let status: TerminationStatus
    do {
        status = try command.prepare().spawn().wait()
    } catch {
        close(fds[1])
        throw error
    }
    close(fds[1])
    // The helper has ended: read what it wrote without waiting for an end of file (another
    // test's child may have inherited the write end meanwhile).
    _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fds[0], &buffer, 4096)
        if count <= 0 { break }
        output += buffer[0..<count]
    }
    return (status, String(decoding: output, as: UTF8.self))
}

/// The `name=value` words of the first line of `text`.
func attackFields(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for word in (text.split(separator: "\n").first ?? "").split(separator: " ") {
        let parts = word.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
    }
    return result
}

/// The helper run natively (no sandbox), as the kernel's reference answer.
func runNatively(_ arguments: [String]) -> CLIProcessResult {
    CLIProcess.run(attackHelper!, arguments, environment: ["PATH=/usr/bin:/bin"])
}

/// A fresh directory under /tmp that everyone may enter.
func threatScratch(_ name: String) -> String {
    let path = "/tmp/swift-landlock-threat-tests-\(getpid())/\(name)"
    _ = CLIProcess.run("/usr/bin/rm", ["-rf", path])
    _ = CLIProcess.run("/usr/bin/mkdir", ["-p", path])
    chmod(path, 0o755)
    return path
}

/// Capability bit `bit` in the hexadecimal mask `hex` (a /proc/<pid>/status Cap* value).
func hasNetworkCapability(_ hex: String?, _ bit: Int) -> Bool? {
    guard let hex, let mask = UInt64(hex, radix: 16) else { return nil }
    return mask & (1 << UInt64(bit)) != 0
}

@Suite(
    .serialized, .enabled(if: userNotification, "Requires seccomp user notification (SECCOMP_GET_NOTIF_SIZES failed)"),
    .enabled(if: attackHelper != nil, "Requires gcc to build the attack helper"),
    .enabled(if: getuid() == 0, "Plays a root program that drops its privileges: requires root"))
struct ThreatModelTests {
    // MARK: Finding 2: privilege gain

    /// Attack: a root program drops to nobody, then connects to a root-only (0600) pathname UNIX
    /// socket, hoping the supervisor connects as root.
    @Test func finding2_aProgramThatDroppedToNobodyCannotConnectToARootOnlySocket() throws {
        let directory = threatScratch("rootonly")
        let listener = UnixListener(directory + "/root.sock", mode: 0o600)
        let (status, _) = try runAttack(["drop", "unixconnect", listener.path], try udpRuleset(connect: [53]))
        #expect(status == .exited(EACCES))
        let uids = listener.acceptedUIDs()
        #expect(uids.isEmpty, "the root-only server accepted connections with SO_PEERCRED uids \(uids)")
    }

    /// Attack: a root program drops to nobody, then binds a UDP socket to port 53, which the
    /// policy allows but nobody may not (no CAP_NET_BIND_SERVICE).
    @Test func finding2_aProgramThatDroppedToNobodyCannotBindAPrivilegedPort() throws {
        #expect(runNatively(["drop", "bind", "53"]).status == EACCES)
        let (status, _) = try runAttack(["drop", "bind", "53"], try udpRuleset(bind: [53]))
        #expect(status == .exited(EACCES))
    }

    /// Attack: a root program becomes nobody keeping CAP_NET_BIND_SERVICE, binds port 53 (the
    /// supervisor now remembers the thread with that capability), then execve's itself, from
    /// that thread or from another (which takes the first one's id), dropping the capability,
    /// and binds port 53 again. The supervisor forgets the process's threads when one calls
    /// execve (the call is notified for that): EACCES, as in the kernel.
    @Test(arguments: [[String](), ["thread"]])
    func aCapabilityLostAtExecveIsNotLentByTheSupervisor(from: [String]) throws {
        #expect(runNatively(["bindexec", "53"] + from).status == EACCES)
        let (status, _) = try runAttack(["bindexec", "53"] + from, try udpRuleset(bind: [53]))
        #expect(status == .exited(EACCES))
    }

    /// Attack: a root program drops to nobody, then sends an allowed datagram with an SO_MARK
    /// control message (needs CAP_NET_RAW or CAP_NET_ADMIN).
    @Test func finding2_aProgramThatDroppedToNobodyCannotSetSOMark() throws {
        let receiver = Receiver()
        let (status, _) = try runAttack(["drop", "somark", "\(receiver.port)"], try udpRuleset(connect: [Int(receiver.port)]))
        #expect(status == .exited(EPERM))
        #expect(receiver.count() == 0)
    }

    /// Attack: forged SCM_CREDENTIALS {pid 1, uid 0, gid 0} on a connected UNIX socket, as root
    /// and after dropping to nobody: the result must be the kernel's for the same program.
    @Test(arguments: ["dgram", "stream"])
    func finding2_forgedCredentialsGetTheNativeResult(kind: String) throws {
        for drop in [false, true] {
            let arguments = (drop ? ["drop"] : []) + ["creds", kind]
            let native = runNatively(arguments)
            #expect(native.status == (drop ? EPERM : 0), "native, drop: \(drop)\n\(native)")
            let (status, _) = try runAttack(arguments, try udpRuleset(connect: [53]))
            #expect(status == .exited(native.status), "drop: \(drop)")
        }
    }

    /// Attack: a root program chroots into a jail and connects to an absolute socket path that
    /// names one listener inside the jail and another on the host.
    @Test func finding2_aChrootedProgramReachesTheJailsSocketNotTheHosts() throws {
        let directory = threatScratch("chroot")
        let host = UnixListener(directory + "/host.sock", mode: 0o666)
        let jail = directory + "/jail"
        _ = CLIProcess.run("/usr/bin/mkdir", ["-p", jail + directory])
        let jailed = UnixListener(jail + host.path, mode: 0o666)
        let (status, _) = try runAttack(["chroot", jail, host.path], try udpRuleset(connect: [53]))
        #expect(status == .exited(0))
        let hostConnections = host.acceptedUIDs().count
        #expect(jailed.acceptedUIDs().count == 1, "the jail's listener must get the connection")
        #expect(hostConnections == 0, "the host's listener got \(hostConnections) connection(s) from the jail")
    }

    // MARK: Finding 3: crash from inside

    /// Attack: sendmsg on a UDP and a UNIX socket with a cmsghdr whose cmsg_len is 2^63, 2^64-1
    /// or 2^63-1 (an integer conversion trap in the supervisor); then an allowed send. In an
    /// exit test: today the trap takes the process of the supervisor down.
    @Test func finding3_hugeCmsgLenGetsTheKernelsAnswerAndTheSupervisorSurvives() async {
        await #expect(processExitsWith: .success) {
            let receiver = Receiver()
            let native = runNatively(["cmsg", "\(receiver.port)"])
            guard native.status == 0, attackFields(native.standardOutput)["after"] == "0" else { exit(2) }
            let (status, output) = try! runAttack(["cmsg", "\(receiver.port)"], try! udpRuleset(connect: [Int(receiver.port)]))
            guard status == .exited(0) else { exit(3) }
            guard output == native.standardOutput else {
                print("native: \(native.standardOutput)supervised: \(output)")
                exit(4)
            }
            exit(receiver.count() == 2 ? 0 : 5)
        }
    }

    // MARK: sendmmsg's msg_len write-backs

    /// Attack: while a sendmmsg batch waits on its first entry, another thread makes the page
    /// holding the later entries' msg_len read-only (`revoke`) or writable (`grant`). The kernel
    /// writes each msg_len right after its send and ends the batch where a write fails: 3
    /// datagrams and a count of 2, or all 5 counted. (A supervisor that learnt which fields
    /// were writable once, before sending, sent 5 and counted 2 in both cases.)
    @Test(arguments: ["revoke", "grant"])
    func msgLenIsWrittenBackRightAfterEachSend(change: String) throws {
        let native = runNatively(["lenwrite", change])
        #expect(native.status == 0 && native.standardOutput.hasPrefix("sendmmsg="), "\(native)")
        let (status, output) = try runAttack(["lenwrite", change], try udpRuleset())
        #expect(status == .exited(0))
        #expect(output == native.standardOutput)
    }

    /// Attack: one sendmmsg of 1,024 entries of 1,024 one-byte iovecs each: a million ranges
    /// for 1 MiB of data. What the supervisor keeps per range it fetches ahead is bounded
    /// (`RemoteReads.rangeLimit`): its process (this exit test's) grows by less than 24 MB.
    /// Without the bound it grew by about 44 MB (185 MB when every range was planned).
    @Test func aMillionTinyRangesDoNotInflateTheSupervisor() async {
        await #expect(processExitsWith: .success) {
            func kilobytes(_ field: StaticString) -> Int {
                ProcStatus("/proc/self/status")?.words(field)?.first.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
            }
            let receiver = Receiver()
            let before = kilobytes("VmRSS")
            let (status, output) = try! runAttack(["ranges", "\(receiver.port)"], try! udpRuleset(connect: [Int(receiver.port)]))
            guard status == .exited(0), (Int(attackFields(output)["sendmmsg"] ?? "") ?? 0) > 0 else { exit(2) }
            let growth = kilobytes("VmHWM") - before
            print("supervisor's process grew by \(growth) kB")
            exit(growth < 24 * 1024 ? 0 : 3)
        }
    }

    // MARK: Finding 5: denial of service by history

    /// Attack: with RLIMIT_NOFILE 1024 on the supervisor's process, 10,000 short-lived threads
    /// (then 2,000 processes), one after the other, each make one trapped call; then a fresh
    /// thread's allowed call. In an exit test, whose limit can be lowered.
    @Test func finding5_manyShortLivedTasksDoNotDegradeService() async {
        await #expect(processExitsWith: .success) {
            var limit = rlimit(rlim_cur: 1024, rlim_max: 1024)
            guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { exit(2) }
            let flood = Receiver(), last = Receiver()
            let ruleset = try! udpRuleset(connect: [Int(flood.port), Int(last.port)])
            for (kind, count) in [("threads", 10_000), ("procs", 2_000)] {
                let (status, output) = try! runAttack([kind, "\(count)", "\(flood.port)", "\(last.port)"], ruleset)
                guard status == .exited(0), output == "failures=0 first=0 final=0\n" else {
                    print("\(kind): \(status) \(output)")
                    exit(3)
                }
            }
            exit(last.count() == 2 ? 0 : 4)
        }
    }

    // MARK: Finding 7: capabilities

    /// Attack: as root, a raw IPPROTO_UDP socket carries a UDP datagram to a denied port, and an
    /// AF_PACKET socket is opened; CAP_NET_RAW and CAP_NET_ADMIN must be gone from every set
    /// whenever a network right is handled (supervised, and kernel-only).
    @Test(arguments: [true, false])
    func finding7_rawAndPacketSocketsAreRefusedWhenTheNetworkIsRestricted(supervised: Bool) throws {
        let denied = Receiver()
        let ruleset = supervised ? try udpRuleset(connect: [53]) : Ruleset().handling(NetworkAccess.connectTCP)
        let (status, output) = try runAttack(["raw", "\(denied.port)"], ruleset, udp: supervised ? .supervisor : .kernelOnly)
        let values = attackFields(output)
        #expect(status == .exited(0))
        #expect(values["raw"] == "\(EPERM)", "socket(AF_INET, SOCK_RAW, IPPROTO_UDP): \(output)")
        #expect(values["packet"] == "\(EPERM)", "socket(AF_PACKET, SOCK_RAW, 0): \(output)")
        #expect(denied.count() == 0, "a raw datagram reached the denied port")
        for set in ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"] {
            #expect(hasNetworkCapability(values[set], 13) == false, "\(set) has CAP_NET_RAW: \(output)")
            #expect(hasNetworkCapability(values[set], 12) == false, "\(set) has CAP_NET_ADMIN: \(output)")
        }
    }

    // MARK: - SandboxedCommand.keepsNetworkCapabilities (finding 7)

    /// `keepsNetworkCapabilities = true` keeps CAP_NET_RAW and CAP_NET_ADMIN: both sockets open.
    @Test(arguments: [true, false])
    func finding7_keepsNetworkCapabilitiesKeepsThem(supervised: Bool) throws {
        let ruleset = supervised ? try udpRuleset(connect: [53]) : Ruleset().handling(NetworkAccess.connectTCP)
        #expect(SandboxedCommand(executable: "/bin/true", ruleset: ruleset).keepsNetworkCapabilities == false)
        let (status, output) = try runAttack(["raw", "9"], ruleset, udp: supervised ? .supervisor : .kernelOnly) {
            $0.keepsNetworkCapabilities = true
        }
        let values = attackFields(output)
        #expect(status == .exited(0))
        #expect(values["raw"] == "0", "\(output)")
        #expect(values["packet"] == "0", "\(output)")
        #expect(hasNetworkCapability(values["CapEff"], 13) == true, "\(output)")
        #expect(hasNetworkCapability(values["CapBnd"], 12) == true, "\(output)")
    }
}
