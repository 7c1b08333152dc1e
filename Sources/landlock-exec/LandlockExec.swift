// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `landlock-exec`: picks the subcommand, parses its words against its option table
/// (CommandLine/), and runs it. Usage errors exit 64, the tool's own failures print `Hint:`
/// lines and exit with their statuses (`ExitStatus`).
@main
enum LandlockExec {
    static let version = "0.1.0"

    static func main() {
        guard !CommandLine.arguments.isEmpty else {
            // The Swift runtime reads the arguments from /proc/self/cmdline on Linux.
            ToolFailure(
                "Failed to read the command line: /proc/self/cmdline is not readable",
                hints: ["inside another sandbox, allow reading /proc (for example --ro /proc, or /proc in LL_FS_RO)"]
            ).exit()
        }
        let invocation: Invocation
        do {
            invocation = try Self.invocation(CommandLine.arguments.dropFirst())
        } catch {
            error.exit()
        }
        do {
            switch invocation {
            case .output(let text):
                print(text, terminator: "")
                exit(0)
            case .run(let options): try options.run()
            case .learn(let learn): try learn.run()
            case .sandboxer(let commandLine): try Sandboxer.launch(commandLine)
            case .status(let status): try status.run()
            }
        } catch let failure as ToolFailure {
            failure.exit()
        } catch {
            ToolFailure("\(error)").exit()
        }
    }

    /// What a command line asks for, once parsed and checked.
    enum Invocation: Equatable {
        /// Text for standard output (help, the version, a completion script), then exit 0.
        case output(String)
        case run(RunOptions)
        case learn(Learn)
        case sandboxer([String])
        case status(Status)
    }

    /// The subcommand named by the first word (`run` when it names none), parsed from the rest.
    static func invocation(_ arguments: ArraySlice<String>) throws(UsageError) -> Invocation {
        if arguments.count == 1, let only = arguments.first, only == "--help" || only == "-h" || only == "-help" || only == "help" {
            return .output(fullHelp)
        }
        switch arguments.first {
        case "help": return try help(arguments.dropFirst())
        case "learn": return try parse(Learn.spec, arguments.dropFirst(), Learn(), Invocation.learn)
        case "sandboxer": return try parse(Sandboxer.spec, arguments.dropFirst(), [], Invocation.sandboxer)
        case "status": return try parse(Status.spec, arguments.dropFirst(), Status(), Invocation.status)
        case "run": return try parse(RunOptions.spec, arguments.dropFirst(), RunOptions(), Invocation.run)
        default: return try parse(RunOptions.spec, arguments, RunOptions(), Invocation.run)
        }
    }

    static func parse<Options>(
        _ spec: CommandSpec<Options>, _ words: ArraySlice<String>, _ initial: Options, _ invocation: (Options) -> Invocation
    ) throws(UsageError) -> Invocation {
        let parser = CommandLineParser(spec: spec, offersCompletionScripts: spec.name == RunOptions.spec.name)
        switch try parser.parse(words, into: initial) {
        case .options(let options): return invocation(options)
        case .help: return .output(HelpText.render(spec))
        case .version: return .output(version + "\n")
        case .completionScript(let shell): return .output(try CompletionScript.render(for: shell, commands: completionCommands))
        }
    }

    /// `help [SUBCOMMAND]`.
    static func help(_ words: ArraySlice<String>) throws(UsageError) -> Invocation {
        switch words.first {
        case nil, "help", "--help", "-h": return .output(fullHelp)
        case "run": return .output(HelpText.render(RunOptions.spec))
        case "learn": return .output(HelpText.render(Learn.spec))
        case "sandboxer": return .output(HelpText.render(Sandboxer.spec))
        case "status": return .output(HelpText.render(Status.spec))
        case let other?:
            throw UsageError(
                message: "Unknown subcommand '\(other)'; the subcommands are run, learn, sandboxer and status.",
                usage: "landlock-exec help [<subcommand>]", command: "")
        }
    }

    /// What the completion scripts complete, subcommand by subcommand (`run` first: the default).
    static var completionCommands: [CompletionScript.Command] {
        [RunOptions.spec.completion, Learn.spec.completion, Sandboxer.spec.completion, Status.spec.completion]
    }

    /// The help of `landlock-exec --help`: the default subcommand's options (so it stands alone)
    /// followed by the other subcommands.
    static var fullHelp: String {
        let text = HelpText.render(RunOptions.spec, usage: "landlock-exec [run] [<options>] [<command> ...]")
        // Laid out by hand: the lines use the 80 columns to the full.
        return text + """
            SUBCOMMANDS:
              run (default)           Run COMMAND in a Landlock sandbox.
              learn                   Run COMMAND unrestricted and write the policy it needs
                                      (see 'landlock-exec learn --help').
              sandboxer               Drop-in for the kernel's samples/landlock/sandboxer (see
                                      'landlock-exec sandboxer --help').
              status                  Show the kernel's Landlock ABI and errata, and who
                                      enforces each right here ('--json' for JSON).

            See landlock-exec(1) for the policy file format and examples.

            """
    }
}
