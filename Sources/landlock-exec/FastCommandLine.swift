// SPDX-License-Identifier: Apache-2.0

/// The command lines `landlock-exec` runs without swift-argument-parser.
///
/// argument-parser builds its view of a command by reflection over the property wrappers
/// (type metadata, protocol-conformance scans of the whole binary): about 3 ms of start-up
/// here, for a tool meant to wrap other programs thousands of times. The common command lines
/// (`run` options then the command, and `sandboxer COMMAND`) are parsed here instead, into the
/// same values argument-parser's path produces (`FastCommandLineTests` compares both), and run
/// through the same code. Anything else, or anything argument-parser would answer with a
/// message (help, completions, a refused value, a failed check), returns nil and goes through
/// argument-parser, so help, completions and every message stay argument-parser's.
enum FastCommandLine: Equatable {
    case run(RunOptions)
    case sandboxer([String])

    static func parse(_ arguments: [String]) -> FastCommandLine? {
        guard let first = arguments.first else { return nil }
        // argument-parser answers these wherever they stand before `--`, even among the
        // command's words.
        for word in arguments.prefix(while: { $0 != "--" })
        where Self.builtIn.contains(word) || word.hasPrefix("--generate-completion-script=") || word.hasPrefix("---") {
            return nil
        }
        switch first {
        case "sandboxer": return LandlockExec.Sandboxer.fastCommandLine(arguments.dropFirst()).map(Self.sandboxer)
        case "learn", "status", "help": return nil
        case "run": return LargeCommandLine(Array(arguments.dropFirst())).fastOptions().map(Self.run)
        default: return LargeCommandLine(arguments).fastOptions().map(Self.run)
        }
    }

    private static let builtIn: Set<String> = [
        "--generate-completion-script", "--experimental-dump-help", "--help", "-h", "-help", "--version",
    ]

    func run() throws {
        switch self {
        case .run(let options): try options.run()
        case .sandboxer(let commandLine): try LandlockExec.Sandboxer.launch(commandLine)
        }
    }
}
