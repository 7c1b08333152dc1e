// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import landlock_exec

/// The in-house command-line parser (Sources/landlock-exec/CommandLine): what each command line
/// parses to, the exact message of each refused one (the messages swift-argument-parser gave
/// before, recorded from the previous binary), and help and completion scripts generated from
/// the option tables.
@Suite("Command line")
struct CommandLineTests {
    static func invocation(_ words: [String]) throws(UsageError) -> LandlockExec.Invocation {
        try LandlockExec.invocation(words[...])
    }

    static func run(_ change: (inout RunOptions) -> Void) -> LandlockExec.Invocation {
        var options = RunOptions()
        change(&options)
        return .run(options)
    }

    static func ports(_ ranges: ClosedRange<Int>...) -> [PortRange] { ranges.map { PortRange(ports: $0) } }

    /// Command lines that run something, and what they parse to.
    static let accepted: [([String], LandlockExec.Invocation)] = [
        (["--", "true"], run { $0.commandLine = ["true"] }),
        (["true"], run { $0.commandLine = ["true"] }),
        (["ls", "-l", "--ro", "/x"], run { $0.commandLine = ["ls", "-l", "--ro", "/x"] }),
        (
            ["--quiet", "--rox", "/usr", "--ro", "/etc", "--udp-supervisor", "never", "--", "/bin/true"],
            run {
                $0.quiet = true
                $0.readExecute = ["/usr"]
                $0.readOnly = ["/etc"]
                $0.udpSupervisor = .never
                $0.commandLine = ["/bin/true"]
            }
        ),
        (
            ["run", "--ro", "/", "--rw", "/tmp", "--connect-tcp", "443", "--unrestricted", "udp", "--", "true"],
            run {
                $0.readOnly = ["/"]
                $0.readWrite = ["/tmp"]
                $0.connectTCP = ports(443...443)
                $0.unrestricted = [.udp]
                $0.commandLine = ["true"]
            }
        ),
        (
            ["--ro=/usr", "--rw=/tmp", "--bind-tcp=8000-8010", "--connect-udp", "53", "--env=A=1", "--", "dig"],
            run {
                $0.readOnly = ["/usr"]
                $0.readWrite = ["/tmp"]
                $0.bindTCP = ports(8000...8010)
                $0.connectUDP = ports(53...53)
                $0.env = ["A=1"]
                $0.commandLine = ["dig"]
            }
        ),
        (
            ["--ro", "/a", "--ro", "/b", "--rox", "/c", "--rwx", "/d", "--system", "--ignore-missing", "--", "x"],
            run {
                $0.readOnly = ["/a", "/b"]
                $0.readExecute = ["/c"]
                $0.readWriteExecute = ["/d"]
                $0.system = true
                $0.ignoreMissing = true
                $0.commandLine = ["x"]
            }
        ),
        (
            ["--bind-udp", "0", "--connect-tcp", "1-2", "--connect-tcp", "65535", "-v", "-q", "--verbose", "--", "x", "--ro"],
            run {
                $0.bindUDP = ports(0...0)
                $0.connectTCP = ports(1...2, 65535...65535)
                $0.verbose = true
                $0.quiet = true
                $0.commandLine = ["x", "--ro"]
            }
        ),
        (
            [
                "-vq", "--allow-dns", "--log-denials", "--keep-network-capabilities", "--allow-mptcp-sctp",
                "--log-same-exec-off", "--log-new-exec-on", "--log-subdomains-off", "--best-effort", "--", "x",
            ],
            run {
                $0.verbose = true
                $0.quiet = true
                $0.allowDNS = true
                $0.logDenials = true
                $0.keepNetworkCapabilities = true
                $0.allowMPTCPAndSCTP = true
                $0.logSameExecOff = true
                $0.logNewExecOn = true
                $0.logSubdomainsOff = true
                $0.bestEffort = true
                $0.commandLine = ["x"]
            }
        ),
        (
            ["--unrestricted-net", "--unscoped", "signal", "--unscoped=all", "--", "x"],
            run {
                $0.unrestrictedNet = true
                $0.unscoped = [.signal, .all]
                $0.commandLine = ["x"]
            }
        ),
        (
            ["--clear-env", "--env", "A=1", "--env", "HOME", "--env", "B=", "--env=-x", "--", "env"],
            run {
                $0.clearEnv = true
                $0.env = ["A=1", "HOME", "B=", "-x"]
                $0.commandLine = ["env"]
            }
        ),
        (
            ["--udp-supervisor", "always", "--udp-supervisor", "auto", "--", "x"],
            run {
                $0.udpSupervisor = .auto
                $0.commandLine = ["x"]
            }
        ),
        (
            ["--config", "/etc/policy.toml", "--ro", "/extra", "--", "x"],
            run {
                $0.config = ["/etc/policy.toml"]
                $0.readOnly = ["/extra"]
                $0.commandLine = ["x"]
            }
        ),
        (
            ["--print-policy", "--json", "--ro", "/usr"],
            run {
                $0.printPolicy = true
                $0.json = true
                $0.readOnly = ["/usr"]
            }
        ),
        (["--print-policy"], run { $0.printPolicy = true }),
        (["--ro=", "--", "x"], run { $0.readOnly = [""]; $0.commandLine = ["x"] }),
        (["--ro", "-", "x"], run { $0.readOnly = ["-"]; $0.commandLine = ["x"] }),
        (["--", "--help"], run { $0.commandLine = ["--help"] }),
        (["--", "--", "x"], run { $0.commandLine = ["--", "x"] }),
        (["--", "-x"], run { $0.commandLine = ["-x"] }),
        (["ls", "--help"], run { $0.commandLine = ["ls", "--help"] }),
        (["ls", "--generate-completion-script"], run { $0.commandLine = ["ls", "--generate-completion-script"] }),
        (["--ro", "/x", "--", "run", "--ro"], run { $0.readOnly = ["/x"]; $0.commandLine = ["run", "--ro"] }),
        (["run", "--", "x"], run { $0.commandLine = ["x"] }),
        (["run", "run"], run { $0.commandLine = ["run"] }),
        (["run", "help"], run { $0.commandLine = ["help"] }),
        (["sandboxer", "true"], .sandboxer(["true"])),
        (["sandboxer", "ls", "-l"], .sandboxer(["ls", "-l"])),
        (["sandboxer", "--", "ls"], .sandboxer(["ls"])),
        (["sandboxer", "--", "--help"], .sandboxer(["--help"])),
        (["sandboxer", "-x"], .sandboxer(["-x"])),
        (["sandboxer", "--version"], .sandboxer(["--version"])),
        (["learn", "-o", "p.toml", "--", "x"], .learn(.init(output: "p.toml", commandLine: ["x"]))),
        (["learn", "--output=p.toml", "--append", "x", "-y"], .learn(.init(output: "p.toml", append: true, commandLine: ["x", "-y"]))),
        (["learn", "-o", "a", "-o", "b", "--", "x"], .learn(.init(output: "b", commandLine: ["x"]))),
        (["status"], .status(.init())),
        (["status", "--json"], .status(.init(json: true))),
        (["status", "--"], .status(.init())),
    ]

    @Test("Accepted command lines parse to their options", arguments: accepted)
    func parsesAccepted(_ words: [String], _ expected: LandlockExec.Invocation) throws {
        #expect(try Self.invocation(words) == expected)
    }

    /// The last two lines of a refusal: the subcommand's usage and where its help is.
    enum Usage {
        case run, learn, sandboxer, status, help

        var lines: String {
            switch self {
            case .run: footer("run [<options>] [<command> ...]", help: "run ")
            case .learn: footer("learn --output <file> [--append] [<command> ...]", help: "learn ")
            case .sandboxer: footer("sandboxer [<command> ...]", help: "sandboxer ")
            case .status: footer("status [--json]", help: "status ")
            case .help: footer("help [<subcommand>]", help: "")
            }
        }

        private func footer(_ usage: String, help: String) -> String {
            "Usage: landlock-exec \(usage)\n  See 'landlock-exec \(help)--help' for more information.\n"
        }
    }

    /// Refused command lines and their messages, exactly as the previous binary printed them
    /// (swift-argument-parser's wording), apart from the cases the commit names as improved.
    static let refused: [([String], String, Usage)] = [
        ([], "Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls", .run),
        (["run"], "Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls", .run),
        (["help", "nope"], "Error: Unknown subcommand 'nope'; the subcommands are run, learn, sandboxer and status.", .help),
        (["--"], "Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls", .run),
        (["--ro"], "Error: Missing value for '--ro <path>'\nHelp:  --ro <path>  Allow reading files and listing directories beneath PATH.", .run),
        (["--ro", "--", "x"], "Error: Missing value for '--ro <path>'\nHelp:  --ro <path>  Allow reading files and listing directories beneath PATH.", .run),
        (["--ro", "-x", "--", "y"], "Error: Missing value for '--ro <path>'\nHelp:  --ro <path>  Allow reading files and listing directories beneath PATH.", .run),
        (["--ro="], "Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls", .run),
        (["--connect-tcp", "-1", "--", "x"], "Error: The value '-1' is invalid for '--connect-tcp <port>': port -1 is out of range; ports range from 0 to 65535.\nHelp:  --connect-tcp <port>  Allow connecting TCP sockets to remote PORT.", .run),
        (["--connect-tcp=-1", "--", "x"], "Error: The value '-1' is invalid for '--connect-tcp <port>': port -1 is out of range; ports range from 0 to 65535.\nHelp:  --connect-tcp <port>  Allow connecting TCP sockets to remote PORT.", .run),
        (["--connect-tcp"], "Error: Missing value for '--connect-tcp <port>'\nHelp:  --connect-tcp <port>  Allow connecting TCP sockets to remote PORT.", .run),
        (["--connect-tcp", "70000", "--", "x"], "Error: The value '70000' is invalid for '--connect-tcp <port>': port 70000 is out of range; ports range from 0 to 65535.\nHelp:  --connect-tcp <port>  Allow connecting TCP sockets to remote PORT.", .run),
        (["--bind-tcp", "9-8", "--", "x"], "Error: The value '9-8' is invalid for '--bind-tcp <port>': the range '9-8' is empty; write the lower port first, as in 8-9.\nHelp:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).", .run),
        (["--bind-tcp", "http", "--", "x"], "Error: The value 'http' is invalid for '--bind-tcp <port>': 'http' is not a port number or a range such as 8000-8010.\nHelp:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).", .run),
        (["--bind-udp", "--rw", "--", "x"], "Error: The value '--rw' is invalid for '--bind-udp <port>': '--rw' is not a port number or a range such as 8000-8010.\nHelp:  --bind-udp <port>  Allow binding UDP sockets to PORT; port 0 covers the automatic bind on first connect or send.", .run),
        (["--bind-tcp", "1-2-3", "--", "x"], "Error: The value '1-2-3' is invalid for '--bind-tcp <port>': '1-2-3' is not a port number or a range such as 8000-8010.\nHelp:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).", .run),
        (["--bind-tcp", "0123456", "--", "x"], "Error: The value '0123456' is invalid for '--bind-tcp <port>': '0123456' is not a port number or a range such as 8000-8010.\nHelp:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).", .run),
        (["--bind-tcp", "", "--", "x"], "Error: The value '' is invalid for '--bind-tcp <port>': '' is not a port number or a range such as 8000-8010.\nHelp:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).", .run),
        (["--unrestricted", "tcp", "--connect-tcp", "443", "--", "x"], "Error: --connect-tcp cannot be combined with --unrestricted, which leaves net.connect_tcp unrestricted; remove one of them.", .run),
        (["--unrestricted-net", "--bind-udp", "1", "--", "x"], "Error: --bind-udp cannot be combined with --unrestricted-net, which leaves net.bind_udp unrestricted; remove one of them.", .run),
        (["--unrestricted", "nope", "--", "x"], "Error: The value 'nope' is invalid for '--unrestricted <right>'. Please provide one of the following:\n  - bind-tcp\n  - connect-tcp\n  - bind-udp\n  - connect-udp\n  - tcp\n  - udp\n  - bind\n  - connect\nHelp:  --unrestricted <right>  Leave one network right unhandled (repeatable).", .run),
        (["--unrestricted=nope", "--", "x"], "Error: The value 'nope' is invalid for '--unrestricted <right>'. Please provide one of the following:\n  - bind-tcp\n  - connect-tcp\n  - bind-udp\n  - connect-udp\n  - tcp\n  - udp\n  - bind\n  - connect\nHelp:  --unrestricted <right>  Leave one network right unhandled (repeatable).", .run),
        (["--unrestricted"], "Error: Missing value for '--unrestricted <right>'\nHelp:  --unrestricted <right>  Leave one network right unhandled (repeatable).", .run),
        (["--unscoped", "nope", "--", "x"], "Error: The value 'nope' is invalid for '--unscoped <scope>'. Please provide one of 'abstract-unix-socket', 'signal' or 'all'.\nHelp:  --unscoped <scope>  Lift one IPC scope (repeatable); both are on by default.", .run),
        (["--udp-supervisor", "sometimes", "--", "x"], "Error: The value 'sometimes' is invalid for '--udp-supervisor <mode>'. Please provide one of 'auto', 'always' or 'never'.\nHelp:  --udp-supervisor <mode>  Who enforces the UDP rights on kernels without Landlock ABI 10, and fs.resolve_unix (pathname UNIX sockets) on kernels without ABI 9: auto (the supervisor when needed), always (UDP: even on ABI 10), never (not enforced there, and the command is exec'd in place).", .run),
        (["--udp-supervisor"], "Error: Missing value for '--udp-supervisor <mode>'\nHelp:  --udp-supervisor <mode>  Who enforces the UDP rights on kernels without Landlock ABI 10, and fs.resolve_unix (pathname UNIX sockets) on kernels without ABI 9: auto (the supervisor when needed), always (UDP: even on ABI 10), never (not enforced there, and the command is exec'd in place).", .run),
        (["--udp-supervisor", "--", "x"], "Error: Missing value for '--udp-supervisor <mode>'\nHelp:  --udp-supervisor <mode>  Who enforces the UDP rights on kernels without Landlock ABI 10, and fs.resolve_unix (pathname UNIX sockets) on kernels without ABI 9: auto (the supervisor when needed), always (UDP: even on ABI 10), never (not enforced there, and the command is exec'd in place).", .run),
        (["--env", "=1", "--", "x"], "Error: '--env =1' has no variable name; write KEY=VALUE.", .run),
        (["--env", "-x", "--", "x"], "Error: Missing value for '--env <key[=value]>'\nHelp:  --env <key[=value]>  Set KEY to VALUE, or with --clear-env keep KEY from the current environment (repeatable).", .run),
        (["--json", "--", "x"], "Error: --json only applies to --print-policy.", .run),
        (["--print-policy", "--", "x"], "Error: --print-policy runs nothing; remove the command, or remove --print-policy to run it.", .run),
        (["-vx", "--", "x"], "Error: Unknown option '-x'", .run),
        (["-x"], "Error: Unknown option '-x'. To run a command whose name starts with '-', put it after --.", .run),
        (["--config", "p", "--system", "--", "x"], "Error: --system cannot be combined with --config; add the paths to the policy file instead.", .run),
        (["--config", "p", "--unscoped", "signal", "--", "x"], "Error: --unscoped cannot be combined with --config; the policy file says which scopes apply.", .run),
        (["--config", "p", "--allow-dns", "--", "x"], "Error: --allow-dns cannot be combined with --config; add the DNS rules to the policy file instead.", .run),
        (["--config", "p", "--unrestricted-net", "--", "x"], "Error: --unrestricted-net and --unrestricted cannot be combined with --config; the policy file says which rights are handled.", .run),
        (["--config", "p", "--unrestricted", "tcp", "--", "x"], "Error: --unrestricted-net and --unrestricted cannot be combined with --config; the policy file says which rights are handled.", .run),
        (["--frobnicate", "--", "x"], "Error: Unknown option '--frobnicate'. To run a command whose name starts with '-', put it after --.", .run),
        (["--frobnicate"], "Error: Unknown option '--frobnicate'. To run a command whose name starts with '-', put it after --.", .run),
        (["--bogus", "--", "x"], "Error: Unknown option '--bogus'. To run a command whose name starts with '-', put it after --.", .run),
        (["---x", "--", "x"], "Error: Unknown option '---x'. To run a command whose name starts with '-', put it after --.", .run),
        (["--ro", "/usr"], "Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls", .run),
        (["--system=1", "--", "x"], "Error: The option '--system' does not take any value, but '1' was specified.", .run),
        (["--quiet=yes", "--", "x"], "Error: The option '--quiet' does not take any value, but 'yes' was specified.", .run),
        (["--generate-completion-script", "nope"], "Error: The value 'nope' is invalid for '--generate-completion-script <shell>'. Please provide one of 'bash', 'zsh' or 'fish'.", .run),
        (["--experimental-dump-help"], "Error: Unknown option '--experimental-dump-help'. To run a command whose name starts with '-', put it after --.", .run),
        (["sandboxer"], "Error: Missing the command to run, as in: LL_FS_RO=/usr LL_FS_RW= landlock-exec sandboxer ls", .sandboxer),
        (["sandboxer", "--"], "Error: Missing the command to run, as in: LL_FS_RO=/usr LL_FS_RW= landlock-exec sandboxer ls", .sandboxer),
        (["learn"], "Error: Missing expected argument '--output <file>'\nHelp:  --output <file>  Write the policy to FILE.", .learn),
        (["learn", "--", "x"], "Error: Missing expected argument '--output <file>'\nHelp:  --output <file>  Write the policy to FILE.", .learn),
        (["learn", "-o"], "Error: Missing value for '-o <file>'\nHelp:  -o <file>  Write the policy to FILE.", .learn),
        (["learn", "--output"], "Error: Missing value for '--output <file>'\nHelp:  --output <file>  Write the policy to FILE.", .learn),
        (["learn", "-o", "/tmp", "--", "x"], "Error: --output /tmp is a directory; name the policy file to write.", .learn),
        (["learn", "-o", "", "--", "x"], "Error: --output needs a file name.", .learn),
        (["learn", "-o", "/tmp/p.toml"], "Error: Missing the command to run; write it after --, as in: landlock-exec learn --output policy.toml -- ls", .learn),
        (["learn", "-o", "/tmp/p.toml", "-x"], "Error: Unknown option '-x'. To run a command whose name starts with '-', put it after --.", .learn),
        (["learn", "--bogus", "-o", "f", "--", "x"], "Error: Unknown option '--bogus'. To run a command whose name starts with '-', put it after --.", .learn),
        (["status", "--json", "--bogus"], "Error: Unknown option '--bogus'", .status),
        (["status", "extra"], "Error: Unexpected argument 'extra'", .status),
        (["status", "--bogus"], "Error: Unknown option '--bogus'", .status),
        (["status", "--json=1"], "Error: The option '--json' does not take any value, but '1' was specified.", .status),
    ]

    @Test("Refused command lines give their exact message", arguments: refused)
    func refusesWithItsMessage(_ words: [String], _ message: String, _ usage: Usage) {
        #expect(throws: UsageError.self) { try Self.invocation(words) }
        do {
            _ = try Self.invocation(words)
        } catch {
            #expect(error.text == message + "\n" + usage.lines)
        }
    }

    /// Help, the version and completion scripts: text for standard output.
    static let outputs: [([String], String)] = [
        (["--help"], "USAGE: landlock-exec [run] [<options>] [<command> ...]"),
        (["-h"], "SUBCOMMANDS:"),
        (["help"], "SUBCOMMANDS:"),
        (["-help"], "SUBCOMMANDS:"),
        (["help", "help"], "SUBCOMMANDS:"),
        (["run", "--help"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["run", "-h"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["--ro", "/x", "--help"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["-v", "-h"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["-vh"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["help", "run"], "USAGE: landlock-exec run [<options>] [<command> ...]"),
        (["learn", "--help"], "USAGE: landlock-exec learn --output <file> [--append] [<command> ...]"),
        (["help", "learn"], "USAGE: landlock-exec learn --output <file> [--append] [<command> ...]"),
        (["sandboxer", "--help"], "USAGE: landlock-exec sandboxer [<command> ...]"),
        (["sandboxer", "-h"], "USAGE: landlock-exec sandboxer [<command> ...]"),
        (["status", "--help"], "USAGE: landlock-exec status [--json]"),
        (["help", "status"], "USAGE: landlock-exec status [--json]"),
        (["--version"], "0.1.0\n"),
        (["--ro", "/x", "--version"], "0.1.0\n"),
        (["learn", "--version"], "0.1.0\n"),
        (["status", "--version"], "0.1.0\n"),
        (["--generate-completion-script", "bash"], "complete -o default -F _landlock_exec landlock-exec"),
        (["--generate-completion-script=zsh"], "#compdef landlock-exec"),
        (["--generate-completion-script", "fish"], "complete -c landlock-exec"),
    ]

    @Test("Help, version and completion requests print their text", arguments: outputs)
    func printsItsText(_ words: [String], _ expected: String) throws {
        guard case .output(let text) = try Self.invocation(words) else {
            Issue.record("\(words) printed nothing")
            return
        }
        #expect(text.contains(expected), "\(words)")
    }

    @Test("20,000 repeated options parse, in their order")
    func manyOptions() throws {
        var words: [String] = []
        for index in 0..<20_000 { words += ["--ro", "/p\(index)"] }
        words += ["--connect-tcp=443", "-q", "--", "true"]
        guard case .run(let options) = try Self.invocation(words) else {
            Issue.record("not a run")
            return
        }
        #expect(options.readOnly.count == 20_000)
        #expect(options.readOnly.first == "/p0" && options.readOnly.last == "/p19999")
        #expect(options.readOnly == (0..<20_000).map { "/p\($0)" })
        #expect(options.connectTCP == Self.ports(443...443) && options.quiet && options.commandLine == ["true"])
    }

    static var specs: [(name: String, options: [String], help: String)] {
        func entry<Options>(_ spec: CommandSpec<Options>) -> (String, [String], String) {
            (spec.name, spec.options.map(\.label), HelpText.render(spec))
        }
        return [entry(RunOptions.spec), entry(LandlockExec.Learn.spec), entry(LandlockExec.Sandboxer.spec), entry(LandlockExec.Status.spec)]
    }

    @Test("Each subcommand's help lists every option of its table, within 80 columns")
    func helpListsEveryOption() {
        for spec in Self.specs {
            for option in spec.options { #expect(spec.help.contains("  " + option), "\(spec.name) --help lacks \(option)") }
            for line in spec.help.split(separator: "\n") { #expect(line.count <= 80, "\(spec.name): \(line)") }
        }
        for option in RunOptions.spec.options { #expect(LandlockExec.fullHelp.contains("  " + option.label)) }
        #expect(HelpText.render(LandlockExec.Learn.spec).contains("  -o, --output <file>     Write the policy to FILE.\n"))
    }

    @Test("Completion scripts name every option and complete values", arguments: CompletionScript.shells)
    func completionScripts(_ shell: String) throws {
        let script = try CompletionScript.render(for: shell, commands: LandlockExec.completionCommands)
        for spec in Self.specs {
            #expect(script.contains(spec.name))
            for label in spec.options {
                let option = String(label.split(separator: " ").first { $0.hasPrefix("--") }!)
                let spelled = shell == "fish" ? "-l " + option.dropFirst(2) + " " : option
                #expect(script.contains(spelled), "\(shell) lacks \(option)")
            }
        }
        for value in ["bind-tcp", "connect-udp", "abstract-unix-socket", "always"] { #expect(script.contains(value)) }
        let paths = ["bash": "compgen -f", "zsh": ":_files", "fish": "-r -F"][shell]!
        #expect(script.contains(paths))
    }

    @Test func unknownShell() {
        #expect(throws: UsageError.self) { try Self.invocation(["--generate-completion-script", "csh"]) }
    }

    @Test("Help wraps as swift-argument-parser did")
    func wrapping() {
        // 6 columns: a line that continues stops short of the margin.
        let margin = String(repeating: " ", count: 74)
        #expect(HelpText.wrap("aaa bbb ccc", indent: 74) == margin + "aaa\n" + margin + "bbb\n" + margin + "ccc")
        #expect(HelpText.wrap("aaaaaaaaa bb", indent: 74) == margin + "aaaaaaaaa\n" + margin + "bb")
        #expect(HelpText.row("--x", "y") == "  --x                     y\n")
        #expect(HelpText.row("--a-very-long-option-name", "y") == "  --a-very-long-option-name\n" + String(repeating: " ", count: 26) + "y\n")
    }
}
