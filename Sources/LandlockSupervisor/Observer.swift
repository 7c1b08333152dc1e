// SPDX-License-Identifier: Apache-2.0
//
// Watching what a program and its descendants do, for `landlock-exec learn`. Learning is not a
// security boundary: the program is trusted to behave as it will under the policy. So every
// observed call is answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE (the kernel runs it as made),
// after its arguments have been read out of the program's memory while it waits. This needs no
// privilege (no_new_privs and a filter, as for the supervisor) and works on every kernel with
// seccomp user notification (5.6; CONTINUE is 5.5); ptrace would also work, but stops the
// program twice per call and conflicts with debuggers and with programs that trace.
//
// What is read can differ from what the kernel then uses (another thread may rewrite the path
// in between): acceptable for learning, never for enforcing.
internal import CLandlock
package import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One thing the observed program did that a Landlock policy must allow.
package struct Observation: Sendable, Hashable {
    package enum Subject: Sendable, Hashable {
        /// Filesystem rights on a path (absolute, symbolic links resolved).
        case path(String, FileSystemAccess)
        /// Network rights on a port.
        case port(Int, NetworkAccess)
        /// An IPC scope the program crossed (a signal to, or an abstract UNIX socket of, a
        /// process outside the observed tree).
        case crossed(Scope)
    }

    package var subject: Subject
    /// The path was created during the run (it will not exist, or be another file, next time).
    package var created: Bool
    /// The program that did it (`/proc/<pid>/comm`).
    package var program: String

    package init(_ subject: Subject, created: Bool = false, program: String) {
        self.subject = subject
        self.created = created
        self.program = program
    }
}

/// Runs a program under an observing seccomp filter (see the file comment).
package enum Observer {
    /// Starts `path` with `argv` and `envp` and reports what it and its descendants do to
    /// `record` (on the observer's thread, one call at a time) until the program ends. Returns
    /// its status once every observed process has ended (the listener hangs up). `started`
    /// receives the program's pid once it runs (to forward signals to it).
    package static func run(
        path: String, argv: [[UInt8]], envp: [[UInt8]], started: (Int32) -> Void = { _ in },
        record: @escaping @Sendable (Observation) -> Void
    ) throws(SeccompError) -> TerminationStatus {
        guard let program = SeccompFilter.observerProgram() else {
            throw SeccompError(.internalInconsistency, "Failed to build the observing seccomp filter for this architecture")
        }
        var plan = SpawnPlan(path: path, argv: argv, envp: envp)
        plan.filter = program
        plan.filterFlags = CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER
        let done = ListenerHandoff()
        let result = try spawn(plan) { listener in
            startDetachedThread {
                _ = clandlock_block_all_signals()
                ObserverLoop(listener: listener, observer: CallObserver(record: record)).run()
                done.cancel()
            }
        }
        started(result.pid)
        var status: Int32 = 0
        while waitpid(result.pid, &status, 0) < 0 {
            if errno != EINTR { return .unknown(reason: "waitpid failed: \(Errno(rawValue: errno).sentence)") }
        }
        // Descendants that outlive the program are still observed; the loop ends when the
        // last one does.
        _ = done.wait()
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}

/// The loop of ``Observer`` and of the denial log without supervisor: every notification
/// observed, then let run. Ends when every observed process has (the listener hangs up).
struct ObserverLoop {
    let listener: Int32
    let observer: CallObserver

    func run() {
        while true {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, -1)
            if ready < 0 { if errno == EINTR { continue } else { break } }
            if poller.revents & Int16(POLLIN) == 0 && poller.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { break }
            var notification = clandlock_seccomp_notif()
            if clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_recv, &notification) != 0 {
                if errno == EINTR || errno == ENOENT { continue }
                break
            }
            let args = withUnsafeBytes(of: notification.data.args) { Array($0.bindMemory(to: UInt64.self)) }
            observer.observe(number: notification.data.nr, tid: pid_t(notification.pid), args)
            var response = clandlock_seccomp_notif_resp(
                id: notification.id, val: 0, error: 0, flags: UInt32(CLANDLOCK_SECCOMP_USER_NOTIF_FLAG_CONTINUE))
            _ = clandlock_ioctl(listener, clandlock_seccomp_ioctl_notif_send, &response)
        }
        close(listener)
    }
}
