// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `landlock-exec` is invisible: apart from what the policy denies, running a command through
/// it is indistinguishable from running the command (signals, exit status, bytes).
@Suite("Invisible wrapper", .requiresLandlock(.v1))
struct InvisibleTests {
    /// The options that make the command a supervised child of `landlock-exec` on every kernel.
    static let supervised = ["--quiet", "--udp-supervisor", "always"]

    /// One Ctrl-C typed on the terminal (a pseudo-terminal here) reaches the command once,
    /// although the terminal signals the whole foreground process group, landlock-exec
    /// included; so does a `kill(0, SIGINT)` of the command's own (which reaches landlock-exec
    /// only when signals are unscoped). Before, the command got a forwarded copy as well.
    @Test(arguments: [[String](), InvisibleTests.supervised, InvisibleTests.supervised + ["--unscoped", "signal"]])
    func ctrlCReachesTheCommandOnce(mode: [String]) {
        // Counts the SIGINTs it receives: blocked and taken one by one, so that a second copy
        // is counted (a handler could run once for two) unless it arrives while the first is
        // still pending.
        let command = """
            import os, signal
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
            def count():
                signal.sigwaitinfo([signal.SIGINT])
                received = 1
                while signal.sigtimedwait([signal.SIGINT], 0.5):
                    received += 1
                return received
            print("ready", flush=True)
            print("terminal", count(), flush=True)
            os.kill(0, signal.SIGINT)
            print("group", count(), flush=True)
            """
        // The pseudo-terminal's controlling process: landlock-exec in the foreground process
        // group of a new session; Ctrl-C is written to the terminal once the command is ready.
        let terminal = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            output = b""
            sent = False
            while True:
                try:
                    data = os.read(fd, 1024)
                except OSError:
                    break
                if not data:
                    break
                output += data
                if not sent and b"ready" in output:
                    os.write(fd, b"\\x03")
                    sent = True
            _, status = os.waitpid(pid, 0)
            # The terminal echoes ^C: keep the command's report lines.
            for line in output.decode().replace("\\r", "").split("\\n"):
                for word in ("terminal", "group"):
                    if word in line:
                        print(line[line.index(word):])
            print("status", os.waitstatus_to_exitcode(status))
            """
        let result = CLIProcess.run(
            "/usr/bin/python3", ["-c", terminal, landlockExec] + mode + ["--", "python3", "-c", command],
            environment: defaultEnvironment)
        #expect(result.standardOutput == "terminal 1\ngroup 1\nstatus 0\n", "\(result)")
    }
}

@Suite("Invisible wrapper: how the command ended", .requiresLandlock(.v1))
struct InvisibleEndTests {
    /// A command killed by SIGSEGV ends landlock-exec with SIGSEGV, but without a core dump of
    /// landlock-exec itself (before: a 20 MB core, and the "core dumped" bit in the status).
    /// The core limit is raised and the working directory is writable, so that a dump would
    /// happen if landlock-exec were dumpable; the command itself dumps nothing (ulimit -c 0).
    @Test(arguments: [[String](), InvisibleTests.supervised])
    func aCrashIsPassedOnWithoutACoreOfTheWrapper(mode: [String]) {
        let scratch = Scratch()
        let parent = """
            import os, resource, sys
            pid = os.fork()
            if pid == 0:
                os.chdir(sys.argv[1])
                resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                os.execv(sys.argv[2], sys.argv[2:])
            _, status = os.waitpid(pid, 0)
            print(os.WIFSIGNALED(status) and os.WTERMSIG(status), os.WCOREDUMP(status), sorted(os.listdir(sys.argv[1])))
            """
        let result = CLIProcess.run(
            "/usr/bin/python3",
            ["-c", parent, scratch.path, landlockExec] + mode + ["--", "sh", "-c", "ulimit -c 0; kill -SEGV $$"],
            environment: defaultEnvironment)
        #expect(result.standardOutput == "\(SIGSEGV) False []\n", "\(result)")
    }
}
