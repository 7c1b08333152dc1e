// SPDX-License-Identifier: Apache-2.0
//
// Adversarial tests of the supervisor's threat model (shared/spec/supervisor-threat-model.md),
// one or more per finding of issue 10, run through the built landlock-exec. The sandboxed
// program is the attack helper (Tests/SupervisorTests/Helpers/attack_helper.c.txt), built once
// with gcc. Every test states the attack it plays; each fails on the code the issue describes.
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The attack helper, built once as a static binary in a directory everyone may enter (some
/// tests run it as nobody).
let attackHelper: String? = buildCHelper(
    source: String(#filePath.dropLast("SandboxCLITests/ThreatModelCLITests.swift".count))
        + "SupervisorTests/Helpers/attack_helper.c.txt",
    named: "attack_helper")

/// The `name=value` words of the first line of `text`.
func fields(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for word in (text.split(separator: "\n").first ?? "").split(separator: " ") {
        let parts = word.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
    }
    return result
}

/// Runs `body` (a landlock-exec run) on a thread of its own, so that the test can act on the
/// processes meanwhile.
final class BackgroundRun: @unchecked Sendable {
    private let body: @Sendable () -> CLIProcessResult
    private var result: CLIProcessResult?
    private var thread = pthread_t()

    init(_ body: @escaping @Sendable () -> CLIProcessResult) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        precondition(pthread_create(&thread, nil, { raw in
            let run = Unmanaged<BackgroundRun>.fromOpaque(raw!).takeRetainedValue()
            run.result = run.body()
            return nil
        }, box) == 0)
    }

    func wait() -> CLIProcessResult {
        pthread_join(thread, nil)
        return result!
    }
}

/// Waits up to `seconds` for `path` to exist.
func waitForFile(_ path: String, seconds: Double = 30) -> Bool {
    for _ in 0..<Int(seconds * 100) {
        if access(path, F_OK) == 0 { return true }
        usleep(10_000)
    }
    return false
}

func touch(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    if fd >= 0 { close(fd) }
}

/// A directory nobody may enter (mkdtemp makes it 0700): for the tests that drop to nobody.
func openScratch() -> Scratch {
    let scratch = Scratch()
    chmod(scratch.path, 0o755)
    return scratch
}

/// landlock-exec's options for a supervised sandbox that allows UDP to `ports` (and the
/// automatic bind), reads and executes everything and writes `scratch`, up to and including `--`.
func supervised(connect ports: [Int], bind: [Int] = [0], scratch: Scratch? = nil) -> [String] {
    var options: [String] = ["--quiet", "--rox", "/"]
    if let scratch { options += ["--rw", scratch.path] }
    options += ["--udp-supervisor", "always"]
    for port in bind { options += ["--bind-udp", String(port)] }
    for port in ports { options += ["--connect-udp", String(port)] }
    return options + ["--"]
}

/// Capability bit `bit` in the hexadecimal mask `hex` (a /proc/<pid>/status Cap* value).
func hasCapability(_ hex: String?, _ bit: Int) -> Bool? {
    guard let hex, let mask = UInt64(hex, radix: 16) else { return nil }
    return mask & (1 << UInt64(bit)) != 0
}

let capNetAdmin = 12, capNetRaw = 13

@Suite(
    "Threat model (issue 10), through landlock-exec", .serialized, .requiresLandlock(.v4),
    .enabled(if: attackHelper != nil, "Requires gcc to build the attack helper"),
    .enabled(if: getuid() == 0, "Plays a root program that drops its privileges: requires root"))
struct ThreatModelCLITests {
    // MARK: Finding 1: escape through a nested sandbox

    /// Attack: the program of a nested sandbox lowers its anchor's RLIMIT_CPU with prlimit, and
    /// once the anchor is dead (killed here by the outer shell), takes the anchor's pid
    /// (clone3 set_tid as root, else forking until it comes round) and sends RETIRE from it to
    /// lift the nested layer, then sends to a port only the outer layer allows.
    @Test func finding1_retireFromAProcessHoldingTheDeadAnchorsPidLiftsNothing() {
        let both = UDPReceiver(), outerOnly = UDPReceiver(), scratch = Scratch()
        let directory = scratch.path
        let inner = [
            landlockExec, "--quiet", "--rox", "/", "--rw", directory, "--bind-udp", "0", "--connect-udp", "\(both.port)",
            "--", attackHelper!, "reuse", "\(outerOnly.port)", directory,
        ].map(shellQuoted).joined(separator: " ")
        let script = """
            \(inner) & nested=$!
            i=0; while [ ! -e \(directory)/anchor ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
            read anchor < \(directory)/anchor
            kill -KILL $anchor
            wait $nested
            echo "nested landlock-exec: $?" >&2
            touch \(directory)/killed
            i=0; while [ ! -e \(directory)/done ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
            """
        let result = CLIProcess.run(
            landlockExec, supervised(connect: [both.port, outerOnly.port], scratch: scratch) + ["sh", "-c", script],
            environment: defaultEnvironment, timeout: 90)
        let values = fields(result.standardOutput)
        #expect(!result.timedOut, "\(result)")
        #expect(values["prlimit"] == "\(EPERM)", "prlimit64 on the anchor must fail with EPERM\n\(result)")
        #expect(values["reused"] == "1", "the helper could not take the anchor's pid\n\(result)")
        #expect(values["retire"] == "\(EINVAL)", "RETIRE from the reused pid must fail with EINVAL\n\(result)")
        #expect(values["reused-send"] == "\(EACCES)", "\(result)")
        #expect(values["send"] == "\(EACCES)", "\(result)")
        #expect(values["child-send"] == "\(EACCES)", "\(result)")
        #expect(outerOnly.count() == 0, "datagrams escaped the nested layer")
        #expect(both.count() == 0)
    }

    // MARK: Finding 2: privilege gain

    /// Attack: a root program drops to nobody (itself with raw syscalls, or through setpriv),
    /// then connects to a root-only (0600) pathname UNIX socket, hoping the supervisor connects
    /// as root.
    @Test(arguments: ["helper", "setpriv"])
    func finding2_aProgramThatDroppedToNobodyCannotConnectToARootOnlySocket(drop: String) {
        let scratch = openScratch()
        let listener = UnixListener(scratch.path + "/root.sock", mode: 0o600)
        let command = drop == "helper"
            ? [attackHelper!, "drop", "unixconnect", listener.path]
            : ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", attackHelper!, "unixconnect", listener.path]
        let result = exec(supervised(connect: [53], scratch: scratch) + command)
        #expect(result.status == EACCES, "connect must fail as it does for nobody\n\(result)")
        let uids = listener.acceptedUIDs()
        #expect(uids.isEmpty, "the root-only server accepted connections with SO_PEERCRED uids \(uids)")
    }

    /// Attack: a root program drops to nobody, then binds a UDP socket to port 53 (allowed by
    /// the policy), which nobody may not do (no CAP_NET_BIND_SERVICE).
    @Test(arguments: ["helper", "setpriv"])
    func finding2_aProgramThatDroppedToNobodyCannotBindAPrivilegedPort(drop: String) {
        let command = drop == "helper"
            ? [attackHelper!, "drop", "bind", "53"]
            : ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", attackHelper!, "bind", "53"]
        let result = exec(supervised(connect: [], bind: [53]) + command)
        #expect(result.status == EACCES, "\(result)")
    }

    /// Attack: a root program drops to nobody, then sends an allowed datagram with an SO_MARK
    /// control message (needs CAP_NET_RAW or CAP_NET_ADMIN).
    @Test func finding2_aProgramThatDroppedToNobodyCannotSetSOMark() {
        let receiver = UDPReceiver()
        let result = exec(supervised(connect: [receiver.port]) + [attackHelper!, "drop", "somark", "\(receiver.port)"])
        #expect(result.status == EPERM, "\(result)")
        #expect(receiver.count() == 0)
    }

    /// Attack: forged SCM_CREDENTIALS {pid 1, uid 0, gid 0} on a connected UNIX socket, as root
    /// and after dropping to nobody: the result must be the kernel's for the same program.
    @Test(arguments: ["dgram", "stream"])
    func finding2_forgedCredentialsGetTheNativeResult(kind: String) {
        for drop in [false, true] {
            let arguments = (drop ? ["drop"] : []) + ["creds", kind]
            let native = CLIProcess.run(attackHelper!, arguments, environment: defaultEnvironment)
            let sandboxed = exec(supervised(connect: [53]) + [attackHelper!] + arguments)
            #expect(native.status == (drop ? EPERM : 0), "native, drop: \(drop)\n\(native)")
            #expect(sandboxed.status == native.status, "drop: \(drop)\n\(sandboxed)")
        }
    }

    /// Attack: a root program chroots into a jail and connects to an absolute socket path that
    /// names one listener inside the jail and another on the host.
    @Test func finding2_aChrootedProgramReachesTheJailsSocketNotTheHosts() {
        let scratch = openScratch()
        let host = UnixListener(scratch.path + "/host.sock", mode: 0o666)
        let jail = scratch.directory("jail")
        _ = scratch.directory("jail" + scratch.path)
        let jailed = UnixListener(jail + host.path, mode: 0o666)
        let native = CLIProcess.run(attackHelper!, ["chroot", jail, host.path], environment: defaultEnvironment)
        #expect(native.status == 0, "\(native)")
        #expect(jailed.acceptedUIDs().count == 1 && host.acceptedUIDs().isEmpty, "natively, the jail's socket answers")
        let result = exec(supervised(connect: [53], scratch: scratch) + [attackHelper!, "chroot", jail, host.path])
        #expect(result.status == 0, "\(result)")
        let hostConnections = host.acceptedUIDs().count
        #expect(jailed.acceptedUIDs().count == 1, "the jail's listener must get the connection")
        #expect(hostConnections == 0, "the host's listener got \(hostConnections) connection(s) from the jail")
    }

    // MARK: Finding 3: crash from inside

    /// Attack: sendmsg on a UDP and a UNIX socket with a cmsghdr whose cmsg_len is 2^63, 2^64-1
    /// or 2^63-1 (an integer conversion trap in the supervisor); then an allowed send.
    @Test func finding3_hugeCmsgLenGetsTheKernelsAnswerAndTheSupervisorSurvives() {
        let receiver = UDPReceiver()
        let native = CLIProcess.run(attackHelper!, ["cmsg", "\(receiver.port)"], environment: defaultEnvironment)
        #expect(native.status == 0 && fields(native.standardOutput)["after"] == "0", "\(native)")
        #expect(receiver.count() == 1)
        let result = exec(supervised(connect: [receiver.port]) + [attackHelper!, "cmsg", "\(receiver.port)"])
        #expect(result.status == 0, "landlock-exec must survive and report the program's status\n\(result)")
        #expect(result.standardOutput == native.standardOutput, "\(result)")
        #expect(receiver.count() == 1, "the allowed datagram after the attack")
    }

    // MARK: Finding 4: the program can reach its supervisor

    /// The scheduling state of every thread of `pid`: nice and policy (/proc/.../stat), CPU
    /// list (status) and I/O priority (ionice).
    private func schedulingState(of pid: pid_t) -> [pid_t: String] {
        var state: [pid_t: String] = [:]
        guard let directory = opendir("/proc/\(pid)/task") else { return state }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = pid_t(name) else { continue }
            let stat = readFile("/proc/\(pid)/task/\(tid)/stat") ?? ""
            let afterName = stat[(stat.lastIndex(of: ")").map { stat.index(after: $0) } ?? stat.startIndex)...]
            let words = afterName.split(separator: " ")
            // Fields after the name start at 3 (state): nice is field 19, policy field 41.
            let nice = words.count > 16 ? String(words[16]) : "?"
            let policy = words.count > 38 ? String(words[38]) : "?"
            let cpus = (readFile("/proc/\(pid)/task/\(tid)/status") ?? "").split(separator: "\n")
                .first { $0.hasPrefix("Cpus_allowed_list:") }.map { String($0.dropFirst(18)).trimmingSpaces } ?? "?"
            let io = CLIProcess.run("/usr/bin/ionice", ["-p", "\(tid)"]).standardOutput.trimmingSpaces
            state[tid] = "nice \(nice) policy \(policy) cpus \(cpus) io \(io)"
        }
        return state
    }

    /// Attack: the program aims prlimit (RLIMIT_NOFILE 5), setpriority, sched_setaffinity,
    /// sched_setscheduler (SCHED_IDLE) and ioprio_set (idle) at its supervisor (landlock-exec,
    /// its parent) and each of its threads, and setpriority at its process group and its uid.
    @Test func finding4_theProgramCannotChangeItsSupervisorsLimitsOrScheduling() {
        let receiver = UDPReceiver(), scratch = Scratch()
        let directory = scratch.path
        let arguments = supervised(connect: [receiver.port], scratch: scratch)
            + [attackHelper!, "control", "\(receiver.port)", directory]
        let run = BackgroundRun { exec(arguments) }
        guard waitForFile(directory + "/ready"),
            let supervisor = readFile(directory + "/ready").flatMap({ pid_t($0.trimmingSpaces) })
        else {
            touch(directory + "/go1")
            touch(directory + "/go2")
            Issue.record("the helper did not start: \(run.wait())")
            return
        }
        let limits = readFile("/proc/\(supervisor)/limits")
        let before = schedulingState(of: supervisor)
        touch(directory + "/go1")
        let attacked = waitForFile(directory + "/attacked")
        let limitsAfter = readFile("/proc/\(supervisor)/limits")
        let after = schedulingState(of: supervisor)
        touch(directory + "/go2")
        let result = run.wait()
        #expect(attacked, "\(result)")
        #expect(limits != nil && limitsAfter == limits, "the supervisor's limits changed:\n\(limitsAfter ?? "")")
        let reference = before[supervisor] ?? "?"
        for (tid, state) in after {
            #expect(state == (before[tid] ?? reference), "supervisor thread \(tid): before \(before[tid] ?? reference), after \(state)")
        }
        let values = fields(result.standardOutput)
        for name in ["prlimit", "setpriority", "affinity", "scheduler", "ioprio", "pgrp", "user"] {
            #expect(values[name] == "\(EPERM)", "\(name) aimed outside the program must fail with EPERM\n\(result)")
        }
        for name in ["own-prlimit", "own-setpriority", "own-affinity", "own-scheduler", "own-ioprio"] {
            #expect(values[name] == "0", "\(name) on the program itself must still work\n\(result)")
        }
        #expect(values["after"] == "0", "the supervisor must still serve calls\n\(result)")
        #expect(receiver.count() == 1)
        #expect(result.status == 0, "\(result)")
    }

    /// Attack, as the finding plays it: `prlimit --pid <supervisor> --nofile=5:5` from a shell in
    /// the sandbox (the supervisor is the shell's parent), then an allowed datagram.
    @Test func finding4_thePrlimitCommandOnTheSupervisorIsRefused() {
        let receiver = UDPReceiver()
        let probe = socketProbe(udp: [receiver.port], tcp: nil).map(shellQuoted).joined(separator: " ")
        let script = "prlimit --pid $PPID --nofile=5:5; result=$?; \(probe); echo prlimit=$result"
        let result = exec(supervised(connect: [receiver.port]) + ["sh", "-c", script])
        #expect(result.standardOutput == "ok\nprlimit=1\n", "\(result)")
        #expect(receiver.count() == 1)
    }

    /// Attack: RLIMIT_CPU of 1 s on the supervisor, then a flood of trapped calls until the
    /// supervisor has used more than that (SIGXCPU, then SIGKILL at the hard limit).
    @Test func finding4_aCPULimitOnTheSupervisorCannotKillIt() {
        let receiver = UDPReceiver()
        let result = CLIProcess.run(
            landlockExec, supervised(connect: [receiver.port]) + [attackHelper!, "cpuflood", "\(receiver.port)"],
            environment: defaultEnvironment, timeout: 60)
        let values = fields(result.standardOutput)
        #expect(values["prlimit"] == "\(EPERM)", "\(result)")
        #expect(values["failures"] == "0", "\(result)")
        #expect(values["after"] == "0", "\(result)")
        #expect(result.status == 0, "landlock-exec must survive and report the program's status\n\(result)")
        #expect(receiver.count() > 0)
    }

    // MARK: Finding 5: denial of service by history

    /// Attack: under `ulimit -n 1024`, 10,000 short-lived threads (or 2,000 processes), one
    /// after the other, each make one trapped call; then a fresh thread's allowed call.
    @Test(arguments: [("threads", 10_000), ("procs", 2_000)])
    func finding5_manyShortLivedTasksDoNotDegradeService(kind: String, count: Int) {
        let flood = UDPReceiver(), last = UDPReceiver()
        let arguments = supervised(connect: [flood.port, last.port])
            + [attackHelper!, kind, "\(count)", "\(flood.port)", "\(last.port)"]
        let result = CLIProcess.run(
            "/bin/sh", ["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", landlockExec] + arguments,
            environment: defaultEnvironment, timeout: 120)
        #expect(!result.timedOut, "\(result)")
        #expect(result.standardOutput == "failures=0 first=0 final=0\n", "\(result)")
        #expect(last.count() == 1)
        #expect(result.status == 0, "\(result)")
    }

    // MARK: Finding 6: freeze

    /// Attack: --log-denials with standard error a pipe nobody reads; 20,000 denied sends (far
    /// more lines than a 64 KiB pipe holds), then one allowed send.
    @Test func finding6_aLogPipeNobodyReadsDoesNotFreezeTheSandbox() {
        let allowed = UDPReceiver(), denied = UDPReceiver(), scratch = Scratch()
        let fifo = scratch.path + "/stderr"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Held open (so writers never see EPIPE) and never read until the end.
        let holder = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        #expect(holder >= 0)
        defer { close(holder) }
        let arguments = ["--log-denials"] + supervised(connect: [allowed.port])
            + [attackHelper!, "denyflood", "20000", "\(denied.port)", "\(allowed.port)"]
        let result = CLIProcess.run(
            "/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>\(shellQuoted(fifo))", landlockExec] + arguments,
            environment: defaultEnvironment, timeout: 60)
        #expect(!result.timedOut, "the sandbox froze on its full log pipe\n\(result)")
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "unexpected=0 after=0\n", "\(result)")
        #expect(allowed.count() == 1)
        #expect(denied.count() == 0)
    }

    /// Attack: a process registers a fake nested layer (handling both UDP rights, no ports)
    /// whose denial log is a full pipe, makes one denied call, and its sibling (not below it)
    /// then makes allowed calls.
    @Test func finding6_aFakeNestedLayerWithAFullLogDoesNotFreezeOtherProcesses() {
        let allowed = UDPReceiver(), denied = UDPReceiver()
        let result = CLIProcess.run(
            landlockExec, supervised(connect: [allowed.port]) + [attackHelper!, "fakenest", "\(denied.port)", "\(allowed.port)"],
            environment: defaultEnvironment, timeout: 60)
        #expect(!result.timedOut, "\(result)")
        #expect(result.standardOutput == "registered=0 registrant=\(EACCES) sibling=done 0 0 0\n", "\(result)")
        #expect(allowed.count() == 3)
        #expect(denied.count() == 0)
    }

    // MARK: A connect that waits

    /// A blocking connect to a full backlog (UNIX and TCP), with a handler for SIGALRM set to
    /// come after 1 s: the kernel interrupts the wait (the handler raises). Performed by the
    /// supervisor, the wait must end the same way, not only with SIGKILL.
    @Test(arguments: ["unix", "tcp"])
    func aWaitingConnectIsInterruptedByASignal(kind: String) {
        let scratch = openScratch()
        let program = """
            import os, signal, socket, sys, time
            unix = sys.argv[1] == "unix"
            family = socket.AF_UNIX if unix else socket.AF_INET
            address = sys.argv[2] + "/full-" + str(os.getpid()) if unix else ("127.0.0.1", 0)
            server = socket.socket(family); server.bind(address); server.listen(0)
            address = address if unix else server.getsockname()
            for _ in range(4):
                s = socket.socket(family); s.setblocking(False)
                try: s.connect(address)
                except (BlockingIOError, InterruptedError): pass
                globals().setdefault("held", []).append(s)
            def alarm(*_): raise TimeoutError()
            signal.signal(signal.SIGALRM, alarm); signal.alarm(1)
            start = time.time()
            try:
                socket.socket(family).connect(address); print("connected")
            except TimeoutError: print("interrupted", round(time.time() - start))
            """
        let arguments = ["/usr/bin/python3", "-c", program, kind, scratch.path]
        let native = CLIProcess.run("/usr/bin/python3", Array(arguments.dropFirst()), environment: defaultEnvironment)
        #expect(native.standardOutput == "interrupted 1\n", "natively\n\(native)")
        // TCP left alone by the policy: the connect is still performed by the supervisor.
        let result = exec(
            ["--quiet", "--rox", "/", "--rw", scratch.path, "--udp-supervisor", "always", "--unrestricted", "tcp", "--"]
                + arguments)
        #expect(result.standardOutput == native.standardOutput, "\(result)")
    }

    // MARK: Finding 7: capabilities

    /// Attack: as root, a raw IPPROTO_UDP socket carries a UDP datagram to a denied port, and an
    /// AF_PACKET socket is opened; CAP_NET_RAW and CAP_NET_ADMIN must be gone from every set.
    /// Supervised (default) and kernel path (`--udp-supervisor never`: landlock-exec execs).
    @Test(arguments: ["supervised", "kernel"])
    func finding7_rawAndPacketSocketsAreRefusedWhenTheNetworkIsRestricted(path: String) {
        let denied = UDPReceiver()
        let options = path == "supervised" ? supervised(connect: [53]) : ["--quiet", "--rox", "/", "--unrestricted", "udp", "--udp-supervisor", "never", "--"]
        let result = exec(options + [attackHelper!, "raw", "\(denied.port)"])
        let values = fields(result.standardOutput)
        #expect(result.status == 0, "\(result)")
        #expect(values["raw"] == "\(EPERM)", "socket(AF_INET, SOCK_RAW, IPPROTO_UDP)\n\(result)")
        #expect(values["packet"] == "\(EPERM)", "socket(AF_PACKET, SOCK_RAW, 0)\n\(result)")
        #expect(denied.count() == 0, "a raw datagram reached the denied port")
        for set in ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"] {
            #expect(hasCapability(values[set], capNetRaw) == false, "\(set) has CAP_NET_RAW\n\(result)")
            #expect(hasCapability(values[set], capNetAdmin) == false, "\(set) has CAP_NET_ADMIN\n\(result)")
        }
    }

    /// `--keep-network-capabilities` keeps them: both sockets open.
    @Test(arguments: ["supervised", "kernel"])
    func finding7_keepNetworkCapabilitiesKeepsThem(path: String) {
        let denied = UDPReceiver()
        let options = path == "supervised" ? supervised(connect: [53]) : ["--quiet", "--rox", "/", "--unrestricted", "udp", "--udp-supervisor", "never", "--"]
        let result = exec(["--keep-network-capabilities"] + options + [attackHelper!, "raw", "\(denied.port)"])
        let values = fields(result.standardOutput)
        #expect(result.status == 0, "\(result)")
        #expect(values["raw"] == "0", "\(result)")
        #expect(values["packet"] == "0", "\(result)")
        #expect(hasCapability(values["CapEff"], capNetRaw) == true, "\(result)")
        #expect(hasCapability(values["CapBnd"], capNetAdmin) == true, "\(result)")
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
