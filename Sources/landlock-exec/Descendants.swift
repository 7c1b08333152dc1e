// SPDX-License-Identifier: Apache-2.0
import SandboxSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The processes of a supervised sandbox that outlive the command.
///
/// With the supervisor, the command is a child of `landlock-exec`, whose threads serve its
/// trapped socket calls. A daemon's grandchild, orphaned when the command exits, would lose
/// that service (its calls would fail with `ENOSYS`) if `landlock-exec` exited with the
/// command. So `landlock-exec` is a child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of the
/// sandbox become its children, and it waits for every one of them before it exits with the
/// command's own status. Signals it receives meanwhile go to those processes (unless they were
/// sent to a process group those processes are in, as for the command).
enum Descendants {
    /// The signals passed on, and SIGCHLD; each wakes the waiting loop through a pipe.
    private static let forwarded = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT]
    nonisolated(unsafe) private static var wakeUp: (read: Int32, write: Int32) = (-1, -1)
    /// Per signal number: whether one was received that went to this process alone (bit n)
    /// or to a process group (bit 32 + n).
    private static let received = Atomic<UInt64>(0)

    /// Makes this process the reaper of the command's orphans. Without it (prctl refused),
    /// orphans go to the system's reaper as before.
    static func becomeSubreaper() {
        _ = ProcessControl.set(ProcessControl.setChildSubreaper, 1)
    }

    /// Blocks until `command`, a child, has ended, leaving it to be reaped (by
    /// `SandboxedProcess.wait()`), and meanwhile reaps the orphans that end before it (each
    /// would otherwise stay a zombie, holding its pid, for as long as the command runs).
    static func reapOrphansUntilTheEnd(of command: pid_t) {
        while true {
            var info = siginfo_t()
            guard waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) == 0 else {
                if errno == EINTR { continue }
                return
            }
            let ended = info._sifields._sigchld.si_pid
            if ended == command || ended <= 0 { return }
            var status: Int32 = 0
            while waitpid(ended, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// Replaces the command's signal forwarding with the wake-up of ``waitForAll()``.
    static func takeOverSignals() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        wakeUp = (fds[0], fds[1])
        // Initialised here, not lazily in a signal handler.
        _ = received.load(ordering: .relaxed)
        for signal in forwarded + [SIGCHLD] {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                if signal != SIGCHLD {
                    let toGroup = info.map { SignalForwarding.sentToAGroup($0.pointee) } ?? false
                    Descendants.received.bitwiseOr(1 << UInt64(signal + (toGroup ? 32 : 0)), ordering: .sequentiallyConsistent)
                }
                var byte = UInt8(truncatingIfNeeded: signal)
                _ = write(Descendants.wakeUp.write, &byte, 1)
            }
            action.sa_flags = SA_RESTART | SA_SIGINFO
            sigaction(signal, &action, nil)
        }
    }

    /// Reaps every child until none is left, passing on the signals received meanwhile.
    static func waitForAll() {
        while true {
            var status: Int32 = 0
            var reaped: pid_t
            repeat { reaped = waitpid(-1, &status, WNOHANG) } while reaped > 0 || (reaped < 0 && errno == EINTR)
            if reaped < 0 { return }  // ECHILD: none left
            guard wakeUp.read >= 0 else {
                // No pipe: wait for the next child, signals are not passed on.
                while waitpid(-1, &status, 0) < 0 && errno == EINTR {}
                continue
            }
            var entry = pollfd(fd: wakeUp.read, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, -1)
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(wakeUp.read, &buffer, buffer.count) > 0 {}
            let signals = received.exchange(0, ordering: .sequentiallyConsistent)
            if signals != 0 { pass(signals) }
        }
    }

    /// Sends each received signal to this process's children; one sent to a process group
    /// skips the children in this process's group, which received it too.
    private static func pass(_ signals: UInt64) {
        let children = self.children()
        let group = getpgrp()
        for signal in forwarded {
            let alone = signals & (1 << UInt64(signal)) != 0
            let toGroup = signals & (1 << UInt64(signal + 32)) != 0
            guard alone || toGroup else { continue }
            for child in children where alone || getpgid(child) != group {
                kill(child, signal)
            }
        }
    }

    /// The children of every thread of this process, from `/proc/self/task/*/children`.
    private static func children() -> [pid_t] {
        var result: [pid_t] = []
        guard let directory = opendir("/proc/self/task") else { return result }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let thread = Int32(name) else { continue }
            guard let bytes = readSmallFile("/proc/self/task/\(thread)/children", limit: 65536) else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            result += text.split(separator: " ").compactMap { Int32($0.trimmingSpaces) }
        }
        return result
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring { drop { $0 == " " || $0 == "\n" } }
}
