// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `landlock-exec learn` with real programs: learn a policy, run the same command under it,
/// and check that what the program never did is still denied.
@Suite("learn", .requiresLandlock(.v4))
struct LearnTests {
    /// Runs `landlock-exec` with `arguments` in `directory`.
    static func run(in directory: String, _ arguments: [String], environment: [String] = defaultEnvironment) -> CLIProcessResult {
        CLIProcess.run("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory, landlockExec] + arguments, environment: environment)
    }

    static func read(_ path: String) -> String? { readFile(path) }

    @Test func aShellPipeline() throws {
        let scratch = Scratch()
        scratch.file("data/in.txt", "hello\n")
        scratch.file("data/secret.txt", "secret\n")
        let pipeline = ["sh", "-c", "cat data/in.txt | tr a-z A-Z > out.txt && ls data | wc -l"]
        let learned = Self.run(in: scratch.path, ["learn", "--output", "policy.toml", "--"] + pipeline)
        #expect(learned.status == 0, "\(learned)")
        #expect(learned.standardOutput == "2\n")
        let policy = try #require(Self.read(scratch.path + "/policy.toml"))
        #expect(policy.contains("parent = [\"${cwd}/data/in.txt\"]"), "\(policy)")
        #expect(!policy.contains("secret"), "\(policy)")
        #expect(policy.contains("scoped = [\"abstract_unix_socket\", \"signal\"]"), "\(policy)")

        _ = CLIProcess.run("/usr/bin/rm", [scratch.path + "/out.txt"])
        let again = Self.run(in: scratch.path, ["--config", "policy.toml", "--"] + pipeline)
        #expect(again.status == 0, "\(again)")
        #expect(again.standardOutput == "2\n")
        #expect(Self.read(scratch.path + "/out.txt") == "HELLO\n")

        let secret = Self.run(in: scratch.path, ["--config", "policy.toml", "--", "cat", "data/secret.txt"])
        #expect(secret.status == 1)
        #expect(secret.standardError == "cat: data/secret.txt: Permission denied\n")
        let elsewhere = Self.run(in: scratch.path, ["--config", "policy.toml", "--", "cat", "/etc/hostname"])
        #expect(elsewhere.status == 1, "\(elsewhere)")
        let noDirectory = Self.run(in: scratch.path, ["--config", "policy.toml", "--", "mkdir", "newdir"])
        #expect(noDirectory.status == 1, "\(noDirectory)")
    }

    @Test func aPythonProgramWithFilesTCPAndUDP() throws {
        let scratch = Scratch()
        scratch.file("data/in.txt", "hello\n")
        scratch.file("data/secret.txt", "secret\n")
        let listener = Listener(), receiver = UDPReceiver()
        let otherListener = Listener(), otherReceiver = UDPReceiver()
        scratch.file("prog.py", """
            import socket, sys
            data = open("data/in.txt").read()
            with open("result.txt", "w") as f:
                f.write(data.upper())
            c = socket.create_connection(("127.0.0.1", \(listener.port)), timeout=5); c.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("127.0.0.1", \(receiver.port)))
            print("done")
            """)
        let learned = Self.run(in: scratch.path, ["learn", "--output", "policy.toml", "--", "python3", "prog.py"])
        #expect(learned.status == 0, "\(learned)")
        #expect(receiver.count() == 1)
        let policy = try #require(Self.read(scratch.path + "/policy.toml"))
        #expect(policy.contains("allowed_access = [\"connect_tcp\"]\nport = [\(listener.port)]"), "\(policy)")
        #expect(policy.contains("allowed_access = [\"connect_send_udp\"]\nport = [\(receiver.port)]"), "\(policy)")
        #expect(policy.contains("allowed_access = [\"bind_udp\"]\nport = [0]"), "\(policy)")

        _ = CLIProcess.run("/usr/bin/rm", [scratch.path + "/result.txt"])
        let again = Self.run(in: scratch.path, ["--quiet", "--config", "policy.toml", "--", "python3", "prog.py"])
        #expect(again.status == 0, "\(again)")
        #expect(again.standardOutput == "done\n")
        #expect(receiver.count() == 1)
        #expect(Self.read(scratch.path + "/result.txt") == "HELLO\n")

        // What it never did stays denied: another TCP port, another UDP port, another file.
        let tcp = Self.run(in: scratch.path, ["--quiet", "--config", "policy.toml", "--"] + python(
            "socket.create_connection((\"127.0.0.1\", \(otherListener.port)), timeout=5)"))
        #expect(tcp.status == 13, "\(tcp)")
        let udp = Self.run(in: scratch.path, ["--quiet", "--config", "policy.toml", "--"] + python(
            "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"x\", (\"127.0.0.1\", \(otherReceiver.port)))"))
        #expect(udp.status == 13, "\(udp)")
        #expect(otherReceiver.count() == 0)
        let secret = Self.run(in: scratch.path, ["--quiet", "--config", "policy.toml", "--", "python3", "-c", "open('data/secret.txt')"])
        #expect(secret.status == 1)
        #expect(secret.standardError.contains("PermissionError: [Errno 13] Permission denied: 'data/secret.txt'"), "\(secret)")
    }

    @Test func gitWithAConfigInHome() throws {
        let scratch = Scratch()
        let home = scratch.directory("home")
        scratch.file("home/.gitconfig", "[user]\n\tname = Learner\n")
        scratch.file("home/.netrc", "machine example.com password secret\n")
        let repository = scratch.directory("repo")
        let setup = CLIProcess.run("/bin/sh", ["-c", "cd \"$0\" && git init -q && git -c user.email=a@b commit -q --allow-empty -m first", repository],
            environment: defaultEnvironment + ["HOME=" + home])
        try #require(setup.status == 0, "\(setup)")
        let environment = defaultEnvironment + ["HOME=" + home]
        let command = ["sh", "-c", "git -C repo log --format=%s && git config user.name"]
        let learned = Self.run(in: scratch.path, ["learn", "--output", "git.toml", "--"] + command, environment: environment)
        #expect(learned.status == 0, "\(learned)")
        #expect(learned.standardOutput == "first\nLearner\n")
        let policy = try #require(Self.read(scratch.path + "/git.toml"))
        #expect(policy.contains("parent = [\"${home}/.gitconfig\"]"), "\(policy)")

        let again = Self.run(in: scratch.path, ["--quiet", "--config", "git.toml", "--"] + command, environment: environment)
        #expect(again.status == 0, "\(again)")
        #expect(again.standardOutput == "first\nLearner\n")
        let netrc = Self.run(in: scratch.path, ["--quiet", "--config", "git.toml", "--", "cat", home + "/.netrc"], environment: environment)
        #expect(netrc.status == 1)
        #expect(netrc.standardError == "cat: \(home)/.netrc: Permission denied\n")
        // Committing writes objects, which the learned run never did.
        let commit = Self.run(
            in: scratch.path, ["--quiet", "--config", "git.toml", "--", "git", "-C", "repo", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "second"],
            environment: environment)
        #expect(commit.status != 0, "\(commit)")
    }

    /// Learning needs no privilege: as `nobody` when the tests run as root.
    @Test func learningWorksUnprivileged() throws {
        let scratch = Scratch()
        #expect(chmod(scratch.path, 0o777) == 0)
        scratch.file("in.txt", "in\n")
        scratch.file("other.txt", "other\n")
        var prefix: [String] = []
        if getuid() == 0 {
            try #require(access("/usr/bin/setpriv", X_OK) == 0, "running as a non-root user from root needs setpriv(1)")
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        func run(_ arguments: [String]) -> CLIProcessResult {
            let command = prefix + ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", scratch.path, landlockExec] + arguments
            return CLIProcess.run(command[0], Array(command.dropFirst()), environment: defaultEnvironment)
        }
        let learned = run(["learn", "--output", "p.toml", "--", "cat", "in.txt"])
        #expect(learned.status == 0, "\(learned)")
        #expect(learned.standardOutput == "in\n")
        let again = run(["--quiet", "--config", "p.toml", "--", "cat", "in.txt"])
        #expect(again.status == 0, "\(again)")
        let other = run(["--quiet", "--config", "p.toml", "--", "cat", "other.txt"])
        #expect(other.status == 1, "\(other)")
    }

    @Test func appendMergesASecondRun() throws {
        let scratch = Scratch()
        scratch.file("a.txt", "a\n")
        scratch.file("b.txt", "b\n")
        scratch.file("c.txt", "c\n")
        let first = Self.run(in: scratch.path, ["learn", "--output", "policy.toml", "--", "cat", "a.txt"])
        #expect(first.status == 0, "\(first)")
        let second = Self.run(in: scratch.path, ["learn", "--output", "policy.toml", "--append", "--", "cat", "b.txt"])
        #expect(second.status == 0, "\(second)")
        for (name, status) in [("a.txt", Int32(0)), ("b.txt", 0), ("c.txt", 1)] {
            let result = Self.run(in: scratch.path, ["--quiet", "--config", "policy.toml", "--", "cat", name])
            #expect(result.status == status, "\(name): \(result)")
        }
    }

    @Test func aSignalOutsideTheTreeLiftsTheSignalScope() throws {
        let scratch = Scratch()
        // $PPID is landlock-exec: outside the sandbox under the learned policy as well.
        let learned = Self.run(in: scratch.path, ["learn", "--output", "policy.toml", "--", "sh", "-c", "kill -0 $PPID"])
        #expect(learned.status == 0, "\(learned)")
        let policy = try #require(Self.read(scratch.path + "/policy.toml"))
        #expect(policy.contains("scoped = [\"abstract_unix_socket\"]\n"), "\(policy)")
    }

    /// A pathname UNIX socket connected to gets fs.resolve_unix on that socket only (the
    /// kernel enforces it from ABI 9, the supervisor before), and --log-denials names another.
    @Test func pathnameUnixSocketsStayGranular() throws {
        let scratch = Scratch()
        let used = UnixListener(scratch.path + "/used.sock"), other = UnixListener(scratch.path + "/other.sock")
        defer { withExtendedLifetime((used, other)) {} }
        let connect = { (name: String) in python("socket.socket(socket.AF_UNIX).connect(\"\(name)\")") }
        let learned = Self.run(in: scratch.path, ["learn", "--output", "p.toml", "--"] + connect("used.sock"))
        #expect(learned.status == 0, "\(learned)")
        let policy = try #require(Self.read(scratch.path + "/p.toml"))
        #expect(policy.contains("allowed_access = [\"resolve_unix\"]\nparent = [\"${cwd}/used.sock\"]\n"), "\(policy)")
        let again = Self.run(in: scratch.path, ["--quiet", "--config", "p.toml", "--"] + connect("used.sock"))
        #expect(again.status == 0, "\(again)")
        let denied = Self.run(in: scratch.path, ["--quiet", "--log-denials", "--config", "p.toml", "--"] + connect("other.sock"))
        #expect(denied.status == 13, "\(denied)")
        let socket = scratch.path + "/other.sock"
        #expect(denied.standardError.contains("landlock: blockers=fs.resolve_unix path=\(socket) (allowed by --rw \(socket))\n"), "\(denied)")
    }

    /// An abstract UNIX socket of a process outside the run lifts that scope; one the run binds
    /// itself does not.
    @Test func abstractSocketsCrossTheScopeOnlyWhenOutside() throws {
        let scratch = Scratch()
        let name = "landlock-learn-\(getpid())"
        let outside = AbstractListener(name)
        defer { withExtendedLifetime(outside) {} }
        let own = """
            import socket
            s = socket.socket(socket.AF_UNIX); s.bind("\\0own-\(name)"); s.listen(1)
            c = socket.socket(socket.AF_UNIX); c.connect("\\0own-\(name)")
            """
        let kept = Self.run(in: scratch.path, ["learn", "--output", "own.toml", "--", "python3", "-c", own])
        #expect(kept.status == 0, "\(kept)")
        #expect(try #require(Self.read(scratch.path + "/own.toml")).contains("scoped = [\"abstract_unix_socket\", \"signal\"]\n"))
        let crossing = "import socket\nsocket.socket(socket.AF_UNIX).connect(\"\\0\(name)\")"
        let lifted = Self.run(in: scratch.path, ["learn", "--output", "out.toml", "--", "python3", "-c", crossing])
        #expect(lifted.status == 0, "\(lifted)")
        #expect(try #require(Self.read(scratch.path + "/out.toml")).contains("scoped = [\"signal\"]\n"))
    }

    @Test func failuresAreToldApart() throws {
        let scratch = Scratch()
        let notFound = Self.run(in: scratch.path, ["learn", "--output", "p.toml", "--", "no-such-command-here"])
        #expect(notFound.status == 127)
        #expect(notFound.standardError == "landlock-exec: error: Failed to find \"no-such-command-here\": No such file or directory\n")
        let directory = scratch.directory("dir")
        let notExecutable = Self.run(in: scratch.path, ["learn", "--output", "p.toml", "--", directory])
        #expect(notExecutable.status == 126)
        #expect(notExecutable.standardError == "landlock-exec: error: Failed to execute \"\(directory)\": Permission denied\n")
        let output = Self.run(in: scratch.path, ["learn", "--output", scratch.path, "--", "true"])
        #expect(output.status == 64)
        #expect(output.standardError.hasPrefix("Error: --output \(scratch.path) is a directory; name the policy file to write.\n"))
        // A command killed by a signal: its status is passed on, and the policy still written.
        let killed = Self.run(in: scratch.path, ["learn", "--output", "p.toml", "--", "sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 128 + SIGTERM, "\(killed)")
        #expect(Self.read(scratch.path + "/p.toml") != nil)
    }

    /// The observer reads a program's first bytes for its interpreter: never from a FIFO,
    /// whose open would wait for a writer.
    @Test func executingAFIFODoesNotHoldTheObserverUp() {
        let scratch = Scratch()
        #expect(mkfifo(scratch.path + "/fifo", 0o755) == 0)
        let result = Self.run(in: scratch.path, ["learn", "--output", "p.toml", "--", "sh", "-c", "./fifo; echo after"])
        #expect(!result.timedOut, "\(result)")
        #expect(result.standardOutput == "after\n", "\(result)")
    }

    @Test func helpAndManPageDescribeLearning() throws {
        let help = exec(["learn", "--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("USAGE: landlock-exec learn --output <file> [--append] [<command> ...]"))
        #expect(help.standardOutput.contains("(SECCOMP_USER_NOTIF_FLAG_CONTINUE)"))
        #expect(exec(["--help"]).standardOutput.contains("  learn                   Run COMMAND unrestricted and write the policy it needs\n"))
        let manual = try #require(readFile(repositoryRoot + "/Documentation/landlock-exec.1"))
        for text in [".SH LEARNING", ".B \\-\\-append", "SECCOMP_USER_NOTIF_FLAG_CONTINUE"] {
            #expect(manual.contains(text), "the man page lacks \(text)")
        }
    }

    @Test func learnNeedsACommand() {
        let result = exec(["learn", "--output", "x.toml"])
        #expect(result.status == 64)
        #expect(result.standardError.contains("Missing the command to run; write it after --, as in: landlock-exec learn --output policy.toml -- ls"))
    }
}

/// `--log-denials` beyond UDP: the supervisor observes the command's calls and names each
/// denied right with the option that would allow it.
@Suite("log-denials", .requiresLandlock(.v6))
struct LogDenialsTests {
    /// Runs landlock-exec as `nobody` when the tests run as root (the case: a denial
    /// logged for a user who cannot read the kernel's audit records).
    static func asUser(_ arguments: [String]) throws -> CLIProcessResult {
        guard getuid() == 0 else { return exec(arguments) }
        try #require(access("/usr/bin/setpriv", X_OK) == 0, "running as a non-root user from root needs setpriv(1)")
        return CLIProcess.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", landlockExec] + arguments,
            environment: defaultEnvironment)
    }

    @Test func aDeniedFileReadNamesTheRightAndTheOption() throws {
        let scratch = Scratch()
        #expect(chmod(scratch.path, 0o755) == 0)
        let secret = scratch.file("secret.txt", "s\n")
        let result = try Self.asUser(["--quiet", "--log-denials", "--", "cat", secret])
        #expect(result.status == 1, "\(result)")
        // The line comes before cat's complaint unless the log writer lags by more than 20 ms.
        #expect(result.standardError.contains("landlock: blockers=fs.read_file path=\(secret) (allowed by --ro \(secret))\n"), "\(result)")
        #expect(result.standardError.contains("Permission denied"), "\(result)")
    }

    @Test func creationTCPAndSignalDenialsAreNamed() throws {
        let scratch = Scratch()
        #expect(chmod(scratch.path, 0o777) == 0)
        let port = freePort()
        let script = "echo x > \(scratch.path)/new.txt; kill -0 $PPID; "
            + python("socket.create_connection((\"127.0.0.1\", \(port)), timeout=5)").map(shellQuoted).joined(separator: " ")
        let result = try Self.asUser(["--quiet", "--log-denials", "--", "sh", "-c", script])
        let log = result.standardError
        #expect(log.contains("landlock: blockers=fs.make_reg path=\(scratch.path) (allowed by --rw \(scratch.path))\n"), "\(result)")
        #expect(log.contains("landlock: blockers=scope.signal (allowed by --unscoped signal)\n"), "\(result)")
        #expect(log.contains("landlock: blockers=net.connect_tcp dest=\(port) (allowed by --connect-tcp \(port))\n"), "\(result)")
    }

    /// Without the supervisor (no UDP right handled), the command runs as a child under an
    /// observing filter, which keeps refusing MPTCP sockets while TCP is restricted.
    @Test func withoutTheSupervisorTheObserverStillLogs() throws {
        let scratch = Scratch()
        #expect(chmod(scratch.path, 0o755) == 0)
        let secret = scratch.file("secret.txt", "s\n")
        let script = "cat \(secret); " + python("socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)").map(shellQuoted).joined(separator: " ")
            + "; echo mptcp=$?"
        let result = try Self.asUser(["--quiet", "--log-denials", "--unrestricted", "udp", "--", "sh", "-c", script])
        #expect(result.standardError.contains("landlock: blockers=fs.read_file path=\(secret) (allowed by --ro \(secret))\n"), "\(result)")
        #expect(result.standardError.contains("[Errno 93] Protocol not supported"), "\(result)")
        #expect(result.standardOutput == "mptcp=1\n", "\(result)")
    }

    @Test func allowedCallsAreNotLogged() throws {
        let result = try Self.asUser(["--quiet", "--log-denials", "--", "cat", "/etc/hostname"])
        #expect(result.status == 0, "\(result)")
        #expect(!result.standardError.contains("landlock:"), "\(result)")
    }
}
