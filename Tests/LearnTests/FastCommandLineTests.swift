// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Testing

@testable import landlock_exec

/// `FastCommandLine` against swift-argument-parser: every command line the fast path takes
/// must parse to exactly what argument-parser makes of it, and every line argument-parser
/// answers with help or a message must be left to it (the fast path returns nil).
@Suite("Fast command line")
struct FastCommandLineTests {
    /// What argument-parser makes of `arguments`, in the fast path's terms; nil when it throws
    /// (a message, help, a clean exit) or picks another subcommand.
    static func reference(_ arguments: [String]) -> FastCommandLine? {
        guard let command = try? LandlockExec.parseAsRoot(arguments) else { return nil }
        if let run = command as? LandlockExec.Run { return .run(RunOptions(run)) }
        if let sandboxer = command as? LandlockExec.Sandboxer { return .sandboxer(sandboxer.commandLine) }
        return nil
    }

    /// Lines the fast path must take.
    static let fast: [[String]] = [
        ["--", "true"],
        ["true"],
        ["ls", "-l", "--ro", "/x"],
        ["--quiet", "--rox", "/usr", "--ro", "/etc", "--udp-supervisor", "never", "--", "/bin/true"],
        ["--ro", "/", "--rw", "/tmp", "--connect-tcp", "443", "--unrestricted", "udp", "--", "true"],
        ["run", "--ro", "/", "--rw", "/tmp", "--connect-tcp", "443", "--", "true"],
        ["--ro=/usr", "--rw=/tmp", "--bind-tcp=8000-8010", "--connect-udp", "53", "--", "dig"],
        ["--ro", "/a", "--ro", "/b", "--rox", "/c", "--rwx", "/d", "--system", "--ignore-missing", "--", "x"],
        ["--bind-udp", "0", "--connect-tcp", "1-2", "--connect-tcp", "65535", "-v", "-q", "--verbose", "--", "x", "--ro"],
        ["--allow-dns", "--log-denials", "--keep-network-capabilities", "--allow-mptcp-sctp", "--", "x"],
        ["--log-same-exec-off", "--log-new-exec-on", "--log-subdomains-off", "--best-effort", "--", "x"],
        ["--unrestricted-net", "--unscoped", "signal", "--unscoped", "all", "--", "x"],
        ["--unrestricted", "bind", "--unrestricted", "connect-udp", "--connect-tcp", "80", "--", "x"],
        ["--clear-env", "--env", "A=1", "--env", "HOME", "--env", "B=", "--", "env"],
        ["--udp-supervisor", "always", "--udp-supervisor", "auto", "--", "x"],
        ["--config", "/etc/policy.toml", "--ro", "/extra", "--", "x"],
        ["--print-policy", "--json", "--ro", "/usr"],
        ["--print-policy"],
        ["--", "--help"],
        ["--", "--", "x"],
        ["--", "-x"],
        ["--ro", "/x", "--", "run", "--ro"],
        ["sandboxer", "true"],
        ["sandboxer", "ls", "-l"],
        ["sandboxer", "--", "ls"],
        ["sandboxer", "--", "--help"],
        ["sandboxer", "--", "-x"],
        ["run", "--", "x"],
    ]

    /// Lines argument-parser must answer (help, messages, other subcommands).
    static let slow: [[String]] = [
        [], ["--help"], ["-h"], ["help"], ["--version"], ["run"], ["run", "--help"], ["--ro", "/x", "--help"],
        ["--"], ["--ro"], ["--ro", "--", "x"], ["--ro", "-x", "--", "y"], ["--connect-tcp", "-1", "--", "x"],
        ["--connect-tcp", "70000", "--", "x"], ["--bind-tcp", "9-8", "--", "x"], ["--bind-tcp", "http", "--", "x"],
        ["--unrestricted", "tcp", "--connect-tcp", "443", "--", "x"], ["--unrestricted-net", "--bind-udp", "1", "--", "x"],
        ["--unrestricted", "nope", "--", "x"], ["--unscoped", "nope", "--", "x"], ["--udp-supervisor", "sometimes", "--", "x"],
        ["--env", "=1", "--", "x"], ["--json", "--", "x"], ["--print-policy", "--", "x"], ["-vq", "--", "x"],
        ["--config", "p", "--system", "--", "x"], ["--config", "p", "--unscoped", "signal", "--", "x"],
        ["--config", "p", "--allow-dns", "--", "x"], ["--config", "p", "--unrestricted-net", "--", "x"],
        ["--frobnicate", "--", "x"], ["-x"], ["--generate-completion-script", "bash"], ["--experimental-dump-help"],
        ["sandboxer"], ["sandboxer", "--"], ["sandboxer", "--help"], ["sandboxer", "-h"], ["sandboxer", "-x"],
        ["learn", "--", "x"], ["status"], ["help", "run"], ["ls", "--generate-completion-script"], ["ls", "--help"],
    ]

    @Test("The fast path takes the common lines, as argument-parser parses them", arguments: fast)
    func takesCommonLines(_ arguments: [String]) throws {
        let parsed = try #require(FastCommandLine.parse(arguments))
        #expect(parsed == Self.reference(arguments))
    }

    @Test("The fast path leaves help and messages to argument-parser", arguments: slow)
    func leavesTheRest(_ arguments: [String]) {
        #expect(FastCommandLine.parse(arguments) == nil)
    }

    @Test("Whatever the fast path takes, argument-parser parses the same")
    func agreesOnEveryCombination() {
        // Pairs of words that mean something to one parser or the other, before and after a command.
        let words = [
            "--", "x", "--ro", "/p", "--connect-tcp", "-1", "80", "--unrestricted", "tcp", "--quiet", "-vq",
            "--help", "--version", "--generate-completion-script", "--experimental-dump-help", "sandboxer", "run",
        ]
        for first in words {
            for second in words {
                for line in [[first, second, "--", "x"], [first, second], [first, "--", second]] {
                    if let parsed = FastCommandLine.parse(line) {
                        #expect(parsed == Self.reference(line), "\(line)")
                    }
                }
            }
        }
    }
}
