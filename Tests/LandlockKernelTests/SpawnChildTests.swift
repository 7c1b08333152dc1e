// SPDX-License-Identifier: Apache-2.0
import CLandlock
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Signals the caller's handler saw (the handler runs in whichever process takes the signal;
/// the child shares this memory until it execs).
nonisolated(unsafe) private var handledSignals: Int32 = 0

/// `clandlock_spawn` starts the program's child with CLONE_VM: it shares the caller's memory
/// until execve. A handler of the caller's must never run there, where it would act on the
/// caller's memory from another process.
@Suite("The spawned child before execve")
struct SpawnChildTests {
    @Test("A signal for the child before execve takes its default action, not the caller's handler")
    func callerHandlersDoNotRunInTheChild() async {
        await #expect(processExitsWith: .success) {
            signal(SIGUSR1) { _ in handledSignals += 1 }
            var report: [Int32] = [-1, -1], go: [Int32] = [-1, -1]
            verify(clandlock_pipe_cloexec(&report) == 0 && clandlock_pipe_cloexec(&go) == 0, "pipes")
            // An allow-all filter with a listener: the child reports it, then waits for "go"
            // with every signal unblocked, as the program's child does for the supervisor.
            var filter = [clandlock_sock_filter(code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000)]
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            let envp: [UnsafeMutablePointer<CChar>?] = [nil]
            var child = clandlock_spawn_child(region: nil, size: 0)
            let pid = "/bin/true".withCString { path in
                filter.withUnsafeMutableBufferPointer { program in
                    argv.withUnsafeBufferPointer { argvPointer in
                        envp.withUnsafeBufferPointer { envpPointer in
                            var plan = clandlock_spawn_plan(
                                path: path, argv: argvPointer.baseAddress!, envp: envpPointer.baseAddress!,
                                set_no_new_privs: 1, filter: program.baseAddress, filter_count: 1,
                                filter_flags: CLANDLOCK_SECCOMP_FILTER_FLAG_NEW_LISTENER, ruleset_fd: -1,
                                restrict_flags: 0, report_fd: report[1], go_fd: go[0], inherit_fds: nil,
                                inherit_count: 0, drop_capabilities: 0)
                            return clandlock_spawn(&plan, &child)
                        }
                    }
                }
            }
            verify(pid > 0, "clandlock_spawn: \(String(cString: strerror(errno)))")
            close(report[1])
            close(go[0])
            var record = clandlock_spawn_report()
            let count = withUnsafeMutableBytes(of: &record) { read(report[0], $0.baseAddress, $0.count) }
            verify(count == MemoryLayout<clandlock_spawn_report>.size, "the child's report")
            verify(record.stage == Int32(CLANDLOCK_SPAWN_STAGE_LISTENER), "stage \(record.stage)")
            // The child now waits for "go", before execve.
            verify(kill(pid, SIGUSR1) == 0, "kill")
            // A child that survived the signal would wait for "go" for ever: at most 5 s.
            var status: Int32 = 0
            var ended = false
            for _ in 0..<500 where !ended {
                ended = waitpid(pid, &status, WNOHANG) == pid
                if !ended { usleep(10_000) }
            }
            if !ended {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            clandlock_spawn_release(&child)
            verify(status & 0x7f == SIGUSR1, "the child ended with status \(status), not by SIGUSR1's default action")
            verify(handledSignals == 0, "the caller's handler ran \(handledSignals) time(s)")
        }
    }
}
