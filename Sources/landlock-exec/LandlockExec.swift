// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct LandlockExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landlock-exec",
        abstract: "Run a command in a Landlock sandbox.",
        discussion: """
            `landlock-exec [OPTIONS] -- COMMAND [ARGS...]` restricts itself with Landlock and then \
            becomes COMMAND (no extra process): the command's exit status, signals and inherited \
            file descriptors are its own. When the supervisor enforces the UDP rules, COMMAND runs \
            as its child instead, and landlock-exec exits once every process of the sandbox has \
            ended (see PROCESSES in 'landlock-exec run --help').

            EXIT STATUS
              the command's own status when it runs;
              64   invalid command line, LL_* variable or policy file (nothing is started);
              125  the sandbox could not be set up (nothing is started), or the command's
                   status was lost (a nested sandbox's anchor process was killed);
              126  the command was found but could not be executed;
              127  the command was not found.
            """,
        version: "0.1.0",
        subcommands: [Run.self, Learn.self, Sandboxer.self, Status.self],
        defaultSubcommand: Run.self
    )

    /// Parses, runs, and reports failures of the tool with `Hint:` lines and its own exit
    /// statuses; argument errors keep swift-argument-parser's format and exit 64.
    static func main() {
        guard !CommandLine.arguments.isEmpty else {
            // The Swift runtime reads the arguments from /proc/self/cmdline on Linux.
            ToolFailure(
                "Failed to read the command line: /proc/self/cmdline is not readable",
                hints: ["inside another sandbox, allow reading /proc (for example --ro /proc, or /proc in LL_FS_RO)"]
            ).exit()
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            print(fullHelp, terminator: "")
            Glibc.exit(0)
        }
        if arguments == ["--version"] {
            print(configuration.version)
            Glibc.exit(0)
        }
        do {
            // The common command lines, without argument-parser's reflection (start-up time);
            // everything else, help and every message come from argument-parser below.
            if let fast = FastCommandLine.parse(arguments) {
                try fast.run()
                return
            }
            var command: any ParsableCommand
            if let first = arguments.first, ["learn", "sandboxer", "status", "help"].contains(first) {
                command = try parseAsRoot()
            } else {
                // The default subcommand, parsed alone: argument-parser then reflects over one
                // command instead of the whole tree (start-up time), and sees the repeatable
                // options' values only after a linear pass (its parsing is quadratic).
                let named = arguments.first == "run"
                let large = LargeCommandLine(named ? Array(arguments.dropFirst()) : arguments)
                if var run = try? Run.parse(large.remaining), (try? large.apply(to: &run)) != nil {
                    command = run
                } else {
                    // Rejected: the full parse gives the exact message, of the few words
                    // left first, else (a check across collected values) of the whole line.
                    _ = try parseAsRoot((named ? ["run"] : []) + large.remaining)
                    command = try parseAsRoot(arguments)
                }
            }
            try command.run()
        } catch let failure as ToolFailure {
            failure.exit()
        } catch {
            exit(withError: error)
        }
    }

    /// The help of `landlock-exec --help`: the default subcommand's options (so it stands alone)
    /// followed by the other subcommands.
    static var fullHelp: String {
        var text = helpMessage(for: Run.self, columns: 80)
        text = text.replacingFirst("USAGE: landlock-exec run ", with: "USAGE: landlock-exec [run] ")
        text += "\n\nSUBCOMMANDS:\n"
        text += "  run (default)           Run COMMAND in a Landlock sandbox.\n"
        text += "  learn                   Run COMMAND unrestricted and write the policy it needs\n"
        text += "                          (see 'landlock-exec learn --help').\n"
        text += "  sandboxer               Drop-in for the kernel's samples/landlock/sandboxer (see\n"
        text += "                          'landlock-exec sandboxer --help').\n"
        text += "  status                  Show the kernel's Landlock ABI and errata, and who\n"
        text += "                          enforces each right here ('--json' for JSON).\n"
        text += "\nSee landlock-exec(1) for the policy file format and examples.\n"
        return text
    }
}

extension String {
    func replacingFirst(_ old: String, with new: String) -> String {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(old) {
                return String(self[..<index]) + new + String(self[self.index(index, offsetBy: old.count)...])
            }
            index = self.index(after: index)
        }
        return self
    }
}
