// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor
import SandboxSupport
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LandlockExec {
    struct Learn: Equatable {
        var output = ""
        var append = false
        /// The command and its arguments, without the `--` that introduces them.
        var commandLine: [String] = []

        static let spec = CommandSpec<Learn>(
            name: "learn",
            abstract: "Run COMMAND unrestricted, watch what it and its descendants do, and write a policy that allows just that.",
            discussion: """
                The policy is a landlockconfig TOML file: run the command under it with \
                'landlock-exec --config FILE -- COMMAND...'. It allows the files read, written, \
                executed (with their #! interpreters and ELF loaders), truncated and listed; \
                what was created, removed, renamed and linked (on the directory, as Landlock \
                checks it); the TCP ports bound and connected to; the UDP ports bound (0 for the \
                automatic bind) and sent to; and it keeps each IPC scope on unless a signal or an \
                abstract UNIX socket crossed the boundary of the process tree. Nothing else.

                RULES: user data stays file-granular (reading data/in.txt does not allow \
                data/secret.txt). Hierarchies read as a whole by nature (/usr, /bin, /sbin, \
                /lib*, /etc/ssl/certs, a Python's lib/pythonX.Y) get one rule with the read \
                rights used beneath them, never / or the home directory. Paths created during \
                the run, and paths gone when it ends (/proc/PID files, removed files), are \
                allowed on their nearest directory that existed before. Paths beneath $HOME and \
                the working directory are written with the variables ${home} and ${cwd}. A \
                comment above each rule says which programs used it and how. --append merges \
                another run into an existing file (its variable values are kept).

                HOW: the command runs as a child under a seccomp filter that sends the calls \
                naming a path, a port, a signal target or a socket to landlock-exec (seccomp \
                user notification, Linux 5.6), which reads their arguments and lets each run \
                unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE). No privilege is needed. Learning \
                is not a security boundary: the command is not restricted, and a program could \
                rewrite an argument after it was read. Like every sandbox of landlock-exec, it \
                runs with no_new_privs (set-user-ID bits do not apply).

                The policy handles every right of this kernel's Landlock ABI, and the rights the \
                supervisor enforces where the kernel lacks them (UDP before ABI 10, \
                fs.resolve_unix before ABI 9) when it can run here; a right used but enforced by \
                nobody here is left unhandled and named in the policy's header.
                """,
            options: [
                OptionSpec(
                    long: "output", short: "o", kind: .value, valueName: "file", help: "Write the policy to FILE.",
                    required: true, completion: .files
                ) { $0.output = $1 },
                .flag("append", "Merge what this run used into FILE instead of replacing it.") { $0.append = true },
            ],
            operands: .command(help: "The command to run, after --."),
            setCommand: { $0.commandLine = $1 },
            validate: { try $0.validate() })

        func validate() throws {
            if commandLine.isEmpty {
                throw ValidationError("Missing the command to run; write it after --, as in: landlock-exec learn --output policy.toml -- ls")
            }
            if output.isEmpty { throw ValidationError("--output needs a file name.") }
            var kind = stat()
            if stat(output, &kind) == 0 && kind.st_mode & S_IFMT == S_IFDIR {
                throw ValidationError("--output \(output) is a directory; name the policy file to write.")
            }
        }

        func run() throws {
            let environment = ProcessEnvironment.current
            let name = commandLine[0]
            var executable = name
            if !name.contains("/") {
                switch ExecutableSearch.find(name, path: ExecutableSearch.path(in: environment)) {
                case .found(let path): executable = path
                case .notFound(let problem):
                    throw ToolFailure("Failed to find \"\(name)\": \(String(cString: strerror(problem)))", status: problem == ENOENT ? 127 : 126)
                }
            }
            // The previous file first: a malformed one stops before anything runs.
            var previous: (document: PolicyDocument, comments: [Int: [String]])? = nil
            if append, access(output, F_OK) == 0 {
                let bytes = try PolicyFile.read(output).first?.1 ?? []
                let document = try PolicyFile.parse(bytes, format: .toml, file: output)
                previous = (document, LearnedPolicyFile.comments(in: String(decoding: bytes, as: UTF8.self)))
            }
            let seen = Mutex<[Observation]>([])
            let status: TerminationStatus
            do {
                status = try Observer.run(
                    path: executable, argv: [RawBytes.argumentBytes(name)] + commandLine.dropFirst().map(RawBytes.argumentBytes),
                    envp: environment.map(RawBytes.environmentBytes),
                    // As with run: Ctrl-C reaches the command, and this process lives on to write
                    // what was learned.
                    started: { SignalForwarding.forward(to: $0) }
                ) { observation in
                    seen.withLock { $0.append(observation) }
                }
                SignalForwarding.stop()
            } catch {
                if error.failedToExecute {
                    let code = error.underlyingError?.rawValue ?? EACCES
                    throw ToolFailure(
                        "Failed to execute \"\(executable)\": \(String(cString: strerror(code)))",
                        status: code == ENOENT ? 127 : ExitStatus.cannotExecute)
                }
                throw ToolFailure(
                    "\(error)", hints: ["learning needs seccomp user notification (Linux 5.6) and pidfd_getfd (Linux 5.6)"])
            }
            let observations = seen.withLock { $0 }
            let home = ProcessEnvironment.value("HOME", in: environment).flatMap(Self.realPath)
            let workingDirectory = Self.realPath(".")
            var learner = PolicyLearner(environment: .init(home: home, workingDirectory: workingDirectory, exists: Self.exists))
            learner.add(observations)
            let abi = LandlockStatus.current.abi ?? .v1
            var file = LearnedPolicyFile(
                learner: learner, abi: abi, supervisor: SupervisorAvailability.current == .available,
                variables: LearnedPolicyFile.variables(
                    home: home, workingDirectory: workingDirectory, previous: previous?.document.variables ?? []))
            file.command = commandLine
            if let previous { file.merge(previous: previous.document, comments: previous.comments) }
            try Self.write(file.text, to: output)
            writeStandardError(
                "landlock-exec: learned \(file.paths.count) path rule\(file.paths.count == 1 ? "" : "s") and "
                    + "\(file.ports.reduce(0) { $0 + $1.ports.count }) port\(file.ports.count == 1 ? "" : "s") into \(output); "
                    + "the command \(status)\n")
            switch status {
            case .exited(let code): Glibc.exit(code)
            case .signaled(let signal): SignalForwarding.reraise(signal)
            case .unknown: Glibc.exit(ExitStatus.sandboxFailed)
            }
        }

        static func realPath(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }

        static func exists(_ path: String) -> Bool {
            var info = stat()
            return stat(path, &info) == 0
        }

        /// Writes `text` to `path` through a temporary file renamed over it.
        static func write(_ text: String, to path: String) throws(ToolFailure) {
            let temporary = path + ".learn-tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ToolFailure("Failed to create \"\(temporary)\": \(String(cString: strerror(errno)))") }
            let written = writeAll(fd, text)
            close(fd)
            guard written, rename(temporary, path) == 0 else {
                let error = errno
                unlink(temporary)
                throw ToolFailure("Failed to write \"\(path)\": \(String(cString: strerror(error)))")
            }
        }
    }
}
