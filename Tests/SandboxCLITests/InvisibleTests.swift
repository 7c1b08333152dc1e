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
    /// The core limit is raised (as far as allowed) and the working directory is writable, so
    /// that a dump would happen if landlock-exec were dumpable; the command itself dumps
    /// nothing (ulimit -c 0).
    @Test(arguments: [[String](), InvisibleTests.supervised])
    func aCrashIsPassedOnWithoutACoreOfTheWrapper(mode: [String]) {
        let scratch = Scratch()
        let parent = """
            import os, resource, sys
            pid = os.fork()
            if pid == 0:
                os.chdir(sys.argv[1])
                try:
                    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                except (ValueError, OSError):  # not root: up to the hard limit
                    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
                    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
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

@Suite("Invisible wrapper: bytes", .requiresLandlock(.v1))
struct InvisibleBytesTests {
    /// Runs `landlock-exec` from Python, which passes arguments and environment values as
    /// bytes: each case allows a directory whose name is not valid UTF-8 (`dir\xff`) and runs
    /// `cat data` in it. Before, `--ro` failed with ENOENT (the name arrived as `dir\xEF\xBF\xBD`),
    /// `--ignore-missing` skipped it silently, and LL_FS_RO skipped it with a warning.
    @Test func pathsThatAreNotUTF8AreAllowedByTheirBytes() {
        let scratch = Scratch()
        let script = """
            import os, subprocess, sys
            directory = sys.argv[1].encode() + b"/dir\\xff"
            os.mkdir(directory)
            with open(directory + b"/data", "wb") as file:
                file.write(b"hello\\n")
            cases = [
                ("--ro", [b"--quiet", b"--system", b"--ro", directory], {}),
                ("--ro=", [b"--quiet", b"--system", b"--ignore-missing", b"--ro=" + directory], {}),
                ("LL_FS_RO", [b"sandboxer"], {b"LL_FS_RO": b"/usr:/bin:/lib:/lib64:" + directory, b"LL_FS_RW": b""}),
            ]
            for name, arguments, variables in cases:
                environment = {b"PATH": b"/usr/bin:/bin", b"LC_ALL": b"C", **variables}
                result = subprocess.run(
                    [sys.argv[2].encode()] + arguments + [b"--", b"cat", b"data"], env=environment, cwd=directory,
                    capture_output=True)
                print(name, result.returncode, result.stdout, result.stderr if result.returncode else b"")
            """
        let result = CLIProcess.run("/usr/bin/python3", ["-c", script, scratch.path, landlockExec], environment: defaultEnvironment)
        #expect(
            result.standardOutput == """
                --ro 0 b'hello\\n' b''
                --ro= 0 b'hello\\n' b''
                LL_FS_RO 0 b'hello\\n' b''

                """, "\(result)")
    }

    /// Arguments and environment values reach the command as the bytes given. Not yet:
    /// `SandboxedCommand` (LandlockSupervisor) takes them as `String`, which cannot hold
    /// invalid UTF-8, so `a\xffb` arrives as `a\xEF\xBF\xBDb`; the known issue is recorded
    /// until the library takes bytes, and this test then fails as a reminder to remove it.
    @Test func argumentsAndEnvironmentThatAreNotUTF8PassAsBytes() {
        let script = """
            import subprocess, sys
            command = [b"python3", b"-c", b"import os, sys; print(os.fsencode(sys.argv[1]), os.environb[b'V'])", b"a\\xffb"]
            for mode in ([], [b"--udp-supervisor", b"always"]):
                result = subprocess.run(
                    [sys.argv[1].encode(), b"--quiet"] + mode + [b"--"] + command,
                    env={b"PATH": b"/usr/bin:/bin", b"V": b"a\\xffb"}, capture_output=True)
                print(result.returncode, result.stdout.decode().strip())
            """
        let result = CLIProcess.run("/usr/bin/python3", ["-c", script, landlockExec], environment: defaultEnvironment)
        #expect(result.standardOutput == "0 b'a\\xffb' b'a\\xffb'\n0 b'a\\xffb' b'a\\xffb'\n", "\(result)")
    }
}

@Suite("Invisible wrapper: messages", .requiresLandlock(.v1))
struct InvisibleMessageTests {
    /// A negative port is a value, not an option: before, "Missing value for '--connect-tcp
    /// <port>'". Port options take the next word whatever it is.
    @Test func aNegativePortIsOutOfRange() {
        let result = exec(["--connect-tcp", "-1", "--", "true"])
        #expect(result.status == 64, "\(result)")
        #expect(
            result.standardError == """
                Error: The value '-1' is invalid for '--connect-tcp <port>': port -1 is out of range; ports range from 0 to 65535.
                Help:  --connect-tcp <port>  Allow connecting TCP sockets to remote PORT.
                Usage: landlock-exec run [<options>] [<command> ...]
                  See 'landlock-exec run --help' for more information.

                """)
        let option = exec(["--bind-udp", "--rw", "/tmp", "--", "true"])
        #expect(option.status == 64, "\(option)")
        #expect(option.standardError.hasPrefix("Error: The value '--rw' is invalid for '--bind-udp <port>': '--rw' is not a port number"))
    }

    /// An empty command is not found (127), as env(1) says; before, the PATH search tried the
    /// directories themselves and said "Permission denied" (126).
    @Test func anEmptyCommandIsNotFound() {
        let result = exec(["--quiet", "--", ""])
        #expect(result.status == 127, "\(result)")
        #expect(
            result.standardError == """
                landlock-exec: error: Failed to find "": No such file or directory (ENOENT)
                Hint: the command is an empty word: check its quoting, or the variable meant to hold it

                """)
    }

    /// When filesystem options replaced the default policy, the hint after a denied exec names
    /// --system; with --system (or the default policy) it does not.
    @Test func aDeniedExecNamesSystemWhenTheDefaultPolicyWasReplaced() {
        let scratch = Scratch()
        let replaced = exec(["--quiet", "--ro", scratch.path, "--", "/usr/bin/true"])
        #expect(replaced.status == 126, "\(replaced)")
        #expect(
            replaced.standardError == """
                landlock-exec: error: Failed to execute "/usr/bin/true": Permission denied (EACCES)
                Hint: the sandbox may deny executing the binary, its interpreter (#! line or ELF loader) or its shared \
                libraries: allow them with --rox (for example --rox /usr), or add --system to keep the default policy's \
                system paths

                """)
        let kept = exec(["--quiet", "--system", "--ro", scratch.path, "--", scratch.file("script", "#!/bin/sh\n")])
        #expect(kept.status == 126, "\(kept)")
        #expect(kept.standardError.hasSuffix("allow them with --rox (for example --rox /usr), or use the default policy\n"), "\(kept)")
    }
}

@Suite("Invisible wrapper: daemons", .requiresLandlock(.v4))
struct InvisibleDaemonTests {
    /// A daemonized grandchild (its own session, orphaned when the command exits at once)
    /// keeps the supervisor: its allowed UDP datagram is sent, and landlock-exec exits with the
    /// command's status once the grandchild has ended. Before, landlock-exec exited with the
    /// command and the grandchild's sendto failed with ENOSYS (38).
    @Test func theSupervisorServesADaemonUntilItEnds() {
        let receiver = UDPReceiver()
        let probe = socketProbe(udp: [receiver.port], tcp: nil).map(shellQuoted).joined(separator: " ")
        let daemon = "setsid sh -c \(shellQuoted("sleep 0.5; " + probe)) & exit 3"
        let result = exec(
            InvisibleTests.supervised + ["--bind-udp", "0", "--connect-udp", "\(receiver.port)", "--", "sh", "-c", daemon])
        #expect(result.status == 3, "\(result)")
        #expect(result.standardOutput == "ok\n", "\(result)")
        #expect(receiver.count() == 1)
    }

    /// While landlock-exec waits for the daemon, a SIGTERM sent to it reaches the daemon.
    @Test func signalsReachTheDaemonAfterTheCommandEnded() {
        let daemon = """
            setsid sh -c 'trap "echo term; exit 0" TERM; echo ready; while :; do sleep 0.1; done' & exit 3
            """
        let driver = """
            import os, signal, subprocess, sys
            process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, start_new_session=True)
            print(process.stdout.readline().decode().strip())
            os.kill(process.pid, signal.SIGTERM)
            print(process.stdout.read().decode().strip(), process.wait(timeout=10))
            """
        let result = CLIProcess.run(
            "/usr/bin/python3", ["-c", driver, landlockExec] + InvisibleTests.supervised + ["--", "sh", "-c", daemon],
            environment: defaultEnvironment, timeout: 15)
        #expect(result.standardOutput == "ready\nterm 3\n", "\(result)")
    }
}

extension InvisibleDaemonTests {
    /// Orphans that end while the command still runs are reaped at once: landlock-exec, their
    /// reaper, keeps no zombie (each would hold a pid) until the command ends.
    @Test func orphansThatEndEarlyLeaveNoZombie() {
        let driver = """
            import glob, os, subprocess, sys, time
            process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
            print(process.stdout.readline().decode().strip())
            time.sleep(0.5)
            states = []
            for path in glob.glob(f"/proc/{process.pid}/task/*/children"):
                for child in open(path).read().split():
                    states.append(open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0])
            print("zombies", states.count("Z"))
            process.stdout.read()
            print("status", process.wait(timeout=10))
            """
        let command = "(true &); (true &); (true &); echo ready; sleep 1.5"
        let result = CLIProcess.run(
            "/usr/bin/python3", ["-c", driver, landlockExec] + InvisibleTests.supervised + ["--", "sh", "-c", command],
            environment: defaultEnvironment, timeout: 15)
        #expect(result.standardOutput == "ready\nzombies 0\nstatus 0\n", "\(result)")
    }
}

extension InvisibleDaemonTests {
    /// `--help` says how the supervised path differs from the kernel path.
    @Test func helpSaysHowTheSupervisedPathWaitsForDaemons() {
        let help = exec(["--help"]).standardOutput.split(separator: "\n").joined(separator: " ")
        #expect(help.contains("PROCESSES: without the supervisor, landlock-exec becomes the command (execve)"))
        #expect(help.contains("It adopts the command's orphans (a child subreaper) and exits only when every process of the sandbox has ended"))
        #expect(help.contains("a command that starts a daemon keeps landlock-exec running until the daemon ends"))
    }
}

@Suite("Invisible wrapper: terminals", .requiresLandlock(.v1))
struct InvisibleTerminalTests {
    /// Under the default policy a program reads a password from `/dev/tty` with echo off (a
    /// terminal ioctl) and writes to it; before, opening `/dev/tty` was denied. Another
    /// terminal (`/dev/ptmx`, which creates one) stays denied.
    @Test func theControllingTerminalIsAllowedByTheDefaultPolicy() {
        let command = """
            import termios
            with open("/dev/tty", "r+b", buffering=0) as tty:
                attributes = termios.tcgetattr(tty)
                attributes[3] &= ~termios.ECHO
                termios.tcsetattr(tty, termios.TCSANOW, attributes)
                tty.write(b"tty ok\\n")
            try:
                open("/dev/ptmx", "r+b", buffering=0)
                print("ptmx opened")
            except PermissionError:
                print("ptmx denied")
            """
        let terminal = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            output = b""
            while True:
                try:
                    data = os.read(fd, 1024)
                except OSError:
                    break
                if not data:
                    break
                output += data
            _, status = os.waitpid(pid, 0)
            print(output.decode().replace("\\r", ""), end="")
            print("status", os.waitstatus_to_exitcode(status))
            """
        let result = CLIProcess.run(
            "/usr/bin/python3", ["-c", terminal, landlockExec, "--quiet", "--", "python3", "-c", command],
            environment: defaultEnvironment)
        #expect(result.standardOutput == "tty ok\nptmx denied\nstatus 0\n", "\(result)")
        let help = exec(["--help"]).standardOutput.split(separator: "\n").joined(separator: " ")
        #expect(help.contains("read and write /dev/null, and /dev/tty (the controlling terminal"))
    }
}

@Suite("Invisible wrapper: large command lines", .requiresLandlock(.v1))
struct InvisibleLargeCommandLineTests {
    /// 20,000 repeated options (paths, ports, variables, flags, a single-value option) are
    /// parsed in linear time, and each counts: the last --env wins, the paths and ports are
    /// rules. Before, parsing was quadratic: 8,000 options took about 5.7 s and 20,000 did not
    /// finish within the 10 s allowed here.
    @Test func twentyThousandOptionsAreParsedQuickly() {
        var arguments: [String] = []
        for index in 1...4000 {
            arguments += ["--rox", "/usr", "--connect-tcp", "80-81", "--env", "A=\(index)", "--quiet", "--udp-supervisor", "auto"]
        }
        let result = CLIProcess.run(
            landlockExec, arguments + ["--system", "--", "sh", "-c", "echo $A"], environment: defaultEnvironment, timeout: 10)
        #expect(!result.timedOut, "\(result)")
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "4000\n")
    }

    /// The options taken out before parsing are checked as the parser checks them: a bad value
    /// among many gets the parser's message, and so does a conflict between collected values.
    @Test func collectedOptionsAreCheckedAsBefore() {
        let many = Array(repeating: ["--ro", "/usr"], count: 1000).flatMap { $0 }
        let badPort = exec(many + ["--connect-tcp", "http", "--", "true"])
        #expect(badPort.status == 64)
        #expect(badPort.standardError.hasPrefix(
            "Error: The value 'http' is invalid for '--connect-tcp <port>': 'http' is not a port number or a range such as 8000-8010.\n"),
            "\(badPort)")
        let conflict = exec(many + ["--connect-tcp", "80", "--unrestricted", "connect", "--", "true"])
        #expect(conflict.status == 64)
        #expect(conflict.standardError.hasPrefix(
            "Error: --connect-tcp cannot be combined with --unrestricted, which leaves net.connect_tcp unrestricted; remove one of them.\n"),
            "\(conflict)")
        let noName = exec(["--env", "=x", "--", "true"])
        #expect(noName.standardError.hasPrefix("Error: '--env =x' has no variable name; write KEY=VALUE.\n"), "\(noName)")
    }
}

@Suite("Build with the README's flags")
struct StaticBuildTests {
    /// `swift build -c release --static-swift-stdlib` builds every regular target, and the
    /// static runtime has no swift-testing: a regular target may import Testing only under
    /// `#if canImport(Testing)`. Before, LandlockTestSupport imported it unguarded and the
    /// build of the whole package failed ("no such module 'Testing'").
    @Test func regularTargetsImportTestingOnlyWhereItExists() throws {
        var unguarded: [String] = []
        for file in swiftFiles(under: repositoryRoot + "/Sources") {
            let text = try #require(readFile(file))
            var conditions: [String] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.drop { $0 == " " }
                if trimmed.hasPrefix("#if ") {
                    conditions.append(String(trimmed))
                } else if trimmed.hasPrefix("#endif") {
                    _ = conditions.popLast()
                } else if trimmed.hasSuffix("import Testing"), !conditions.contains("#if canImport(Testing)") {
                    unguarded.append(file)
                }
            }
        }
        #expect(unguarded.isEmpty, "import Testing outside #if canImport(Testing): \(unguarded)")
    }

    private func swiftFiles(under directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var files: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            let path = directory + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) {
                files += swiftFiles(under: path)
            } else if name.hasSuffix(".swift") {
                files.append(path)
            }
        }
        return files
    }
}
