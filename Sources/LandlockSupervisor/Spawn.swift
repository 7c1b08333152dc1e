// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
import Landlock
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Everything `clandlock_spawn` needs, in Swift form.
struct SpawnPlan {
    var path: String
    /// Bytes, not text: arguments and environment values need not be UTF-8.
    var argv: [[UInt8]]
    var envp: [[UInt8]]
    var setNoNewPrivileges = true
    var filter: [clandlock_sock_filter]? = nil
    var filterFlags: UInt32 = 0
    var rulesetFD: Int32 = -1
    var restrictFlags: UInt32 = 0
    var inheritFDs: [Int32] = []
    /// Capabilities (bit = CAP_*) the program must not have (`clandlock_drop_capabilities`).
    var dropCapabilities: UInt64 = 0
}

struct SpawnResult {
    /// The program's process.
    var pid: pid_t
    var listener: Int32?
    /// For a nested sandbox: the anchor (the caller's child, the program's parent) and the
    /// read end of the pipe it writes the program's wait status to.
    var anchor: (pid: pid_t, status: Int32)?
}

/// A nested sandbox's registration with the outer supervisor (see `clandlock_spawn_nested`).
struct NestPlan {
    var layer: UDPLayer
    /// The layer handles fs.resolve_unix, which the outer supervisor enforces for it (kernels
    /// before ABI 9), with the rules of this ruleset that grant it: their paths are opened
    /// (O_PATH) for each spawn, taken by the supervisor from the anchor while it registers.
    var unixRules: Ruleset? = nil
    /// Where the outer supervisor writes this layer's denial lines; -1 for nowhere.
    var logFD: Int32 = -1
}

private let stageNames: [Int32: String] = [
    Int32(CLANDLOCK_SPAWN_STAGE_NO_NEW_PRIVS): "set no_new_privs",
    Int32(CLANDLOCK_SPAWN_STAGE_SECCOMP): "install the seccomp filter",
    Int32(CLANDLOCK_SPAWN_STAGE_WAIT_PARENT): "wait for the supervisor",
    Int32(CLANDLOCK_SPAWN_STAGE_RESTRICT): "restrict the process (landlock_restrict_self)",
    Int32(CLANDLOCK_SPAWN_STAGE_INHERIT): "keep an inherited file descriptor",
    Int32(CLANDLOCK_SPAWN_STAGE_EXEC): "execute",
    Int32(CLANDLOCK_SPAWN_STAGE_SIGNALS): "reset the signal mask",
    Int32(CLANDLOCK_SPAWN_STAGE_ANCHOR): "make the anchor a child subreaper",
    Int32(CLANDLOCK_SPAWN_STAGE_REGISTER): "register the nested sandbox with the outer supervisor",
    Int32(CLANDLOCK_SPAWN_STAGE_FORK): "fork the program",
    Int32(CLANDLOCK_SPAWN_STAGE_CAPABILITIES): "drop the network capabilities",
]

/// Forks and execs with the plan. The calling thread's Landlock domain, no_new_privs and
/// credentials are the child's starting point. When the plan has a listener filter, takes the
/// listener with `pidfd_getfd` before the child goes on. With `nest`, the child is an anchor
/// that registers the plan's Landlock layer and `nest.layer` with the outer supervisor and
/// forks the program.
///
/// `onListener` receives the listener before the child goes on: the child's execve is itself
/// a notified call, so whoever answers notifications must be running before it.
func spawn(
    _ plan: SpawnPlan, nest: NestPlan? = nil, onListener: ((Int32) -> Void)? = nil
) throws(SeccompError) -> SpawnResult {
    var report: [Int32] = [0, 0]
    var go: [Int32] = [0, 0]
    guard clandlock_pipe_cloexec(&report) == 0 else { throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno)) }
    guard clandlock_pipe_cloexec(&go) == 0 else {
        let error = errno
        close(report[0]); close(report[1])
        throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: error))
    }
    defer { close(report[0]); close(go[1]) }
    var status: [Int32] = [-1, -1]
    if nest != nil {
        guard clandlock_pipe_cloexec(&status) == 0 else {
            throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno))
        }
    }
    let ports = nest.map { nest in
        nest.layer.ports.map { clandlock_nest_port(access: UInt32(truncatingIfNeeded: $0.access.rawValue), port: $0.port, reserved: 0) }
    } ?? []

    let cStrings = cStringArray
    let argv = cStrings(plan.argv)
    let envp = cStrings(plan.envp)
    defer { for pointer in argv + envp { pointer?.deallocate() } }
    let filter = plan.filter ?? []
    let unixRules = nest?.unixRules.map(UnixPathLayer.openRulePaths) ?? []
    defer { for fd in unixRules { close(fd) } }
    // The program's child shares this process's memory until it execs (clandlock_spawn): its
    // region is released once it has exec'd or ended, and until then this thread makes no
    // call that could fail (and set errno, which the child shares) while the child runs: every
    // signal is blocked, so the waits on the report pipe are not interrupted.
    var child = clandlock_spawn_child(region: nil, size: 0)
    defer { clandlock_spawn_release(&child) }
    var savedMask = sigset_t()
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    pthread_sigmask(SIG_SETMASK, &allSignals, &savedMask)
    defer { pthread_sigmask(SIG_SETMASK, &savedMask, nil) }
    let pid: pid_t = plan.path.withCString { path in
        filter.withUnsafeBufferPointer { program in
            plan.inheritFDs.withUnsafeBufferPointer { inherit in
                argv.withUnsafeBufferPointer { argvPointer in
                    envp.withUnsafeBufferPointer { envpPointer in
                        var raw = clandlock_spawn_plan(
                            path: path, argv: argvPointer.baseAddress!, envp: envpPointer.baseAddress!,
                            set_no_new_privs: plan.setNoNewPrivileges ? 1 : 0,
                            filter: plan.filter == nil ? nil : program.baseAddress,
                            filter_count: UInt16(program.count), filter_flags: plan.filterFlags,
                            ruleset_fd: plan.rulesetFD, restrict_flags: plan.restrictFlags, report_fd: report[1],
                            go_fd: go[0], inherit_fds: inherit.baseAddress, inherit_count: Int32(inherit.count),
                            drop_capabilities: plan.dropCapabilities)
                        guard let nest else { return clandlock_spawn(&raw, &child) }
                        return ports.withUnsafeBufferPointer { portsPointer in
                            unixRules.withUnsafeBufferPointer { unixPointer in
                                var record = clandlock_nest_record(
                                    version: CLANDLOCK_NEST_VERSION, ruleset_fd: plan.rulesetFD,
                                    handled: UInt32(truncatingIfNeeded: nest.layer.handled.rawValue),
                                    port_count: UInt32(ports.count),
                                    ports: UInt64(UInt(bitPattern: portsPointer.baseAddress)), log_fd: nest.logFD,
                                    unix_handled: nest.unixRules == nil ? 0 : 1, unix_count: UInt32(unixRules.count),
                                    reserved: 0, unix_fds: UInt64(UInt(bitPattern: unixPointer.baseAddress)))
                                return clandlock_spawn_nested(&raw, &record, status[1])
                            }
                        }
                    }
                }
            }
        }
    }
    let forkError = errno
    close(report[1])
    close(go[0])
    if nest != nil { close(status[1]) }
    guard pid > 0 else {
        if nest != nil { close(status[0]) }
        throw SeccompError(.spawnFailed, "Failed to fork", errno: Errno(rawValue: forkError))
    }
    var programPid: pid_t? = nil

    func reap() {
        if nest != nil { close(status[0]) }
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
    }
    var listener: Int32? = nil
    while true {
        var record = clandlock_spawn_report()
        let count = withUnsafeMutableBytes(of: &record) { read(report[0], $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count == 0 { break }  // execve closed the CLOEXEC pipe: the program runs.
        guard count == MemoryLayout<clandlock_spawn_report>.size else {
            reap()
            throw SeccompError(.spawnFailed, "Failed to start the program: the child sent a truncated report")
        }
        if record.stage == Int32(CLANDLOCK_SPAWN_STAGE_STARTED) {
            programPid = record.value
            continue
        }
        if record.stage == Int32(CLANDLOCK_SPAWN_STAGE_LISTENER) {
            let pidfd = clandlock_pidfd_open(pid, 0)
            let taken = pidfd >= 0 ? clandlock_pidfd_getfd(pidfd, record.value, 0) : -1
            let error = errno
            if pidfd >= 0 { close(pidfd) }
            guard taken >= 0 else {
                kill(pid, SIGKILL)
                reap()
                throw SeccompError(.spawnFailed, "Failed to take the seccomp listener (pidfd_getfd)", errno: Errno(rawValue: error))
            }
            // 6.6+; optional. The flags are passed by value, not through a pointer.
            _ = clandlock_ioctl_value(
                taken, clandlock_seccomp_ioctl_notif_set_flags, UInt(CLANDLOCK_SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP))
            listener = taken
            onListener?(taken)
            var byte: UInt8 = 1
            _ = write(go[1], &byte, 1)
            continue
        }
        reap()
        if let listener { close(listener) }
        let stage = stageNames[record.stage] ?? "stage \(record.stage)"
        let object = record.stage == Int32(CLANDLOCK_SPAWN_STAGE_EXEC) ? " \"\(plan.path)\"" : ""
        var error = SeccompError(
            .spawnFailed, "Failed to \(stage)\(object) in the child process", errno: Errno(rawValue: record.value))
        error.stage = record.stage
        throw error
    }
    guard nest != nil else { return SpawnResult(pid: pid, listener: listener) }
    guard let programPid else {
        reap()
        throw SeccompError(.spawnFailed, "Failed to start the program: the nested sandbox's anchor ended early")
    }
    return SpawnResult(pid: programPid, listener: nil, anchor: (pid, status[0]))
}

/// NUL-terminated copies of `strings` (bytes; a NUL inside one ends it, as in C) and a final
/// `nil`, for argv and envp; the caller frees them.
func cStringArray(_ strings: [[UInt8]]) -> [UnsafeMutablePointer<CChar>?] {
    strings.map { bytes in
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        return copy
    } + [nil]
}
