// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--generate-completion-script bash|zsh|fish`: a completion script rendered from the option
/// tables, completing subcommands, options, the values of enumerated options, paths for the
/// options that take one, and the command to run with its own arguments.
enum CompletionScript {
    /// What a script knows of one option.
    struct Option {
        var long: String
        var short: String?
        var help: String
        /// The value's name (`path`), empty for a flag.
        var valueName = ""
        var takesValue: Bool
        var values: [String]
        var files: Bool
        var repeatable: Bool
    }

    /// What a script knows of one subcommand.
    struct Command {
        var name: String
        var abstract: String
        var options: [Option]
        /// Whether words after the options are a command to run.
        var takesCommand: Bool
        /// Whether the command starts at the first word (`sandboxer`).
        var passthrough: Bool
    }

    static let shells = ["bash", "zsh", "fish"]

    /// The script for `shell` (nil: the shell named by `$SHELL`, else bash).
    static func render(for shell: String?, commands: [Command]) throws(UsageError) -> String {
        var name = shell ?? "bash"
        if shell == nil, let path = getenv("SHELL") {
            let base = String(cString: path).split(separator: "/").last.map(String.init) ?? ""
            if shells.contains(base) { name = base }
        }
        switch name {
        case "bash": return BashCompletion.script(commands)
        case "zsh": return ZshCompletion.script(commands)
        case "fish": return FishCompletion.script(commands)
        default:
            throw RunOptions.spec.error(
                "The value '\(name)' is invalid for '--generate-completion-script <shell>'. "
                    + CommandLineParser<RunOptions>.pleaseProvide(shells))
        }
    }

    /// `text` in single quotes for a POSIX shell.
    static func quoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

extension CommandSpec {
    /// This subcommand as the completion scripts see it, with `--version` and `--help`.
    var completion: CompletionScript.Command {
        var options = self.options.map { option in
            CompletionScript.Option(
                long: option.long, short: option.short.map { String(Character($0)) }, help: option.help,
                valueName: option.valueName, takesValue: option.takesValue, values: option.choices, files: option.completion == .files,
                repeatable: option.repeatable)
        }
        var takesCommand = true
        var passthrough = false
        switch operands {
        case .none: takesCommand = false
        case .command: break
        case .passthrough: passthrough = true
        }
        if !passthrough {
            options.append(.init(long: "version", help: "Show the version.", takesValue: false, values: [], files: false, repeatable: false))
        }
        options.append(.init(long: "help", short: "h", help: "Show help information.", takesValue: false, values: [], files: false, repeatable: false))
        return .init(name: name, abstract: abstract, options: options, takesCommand: takesCommand, passthrough: passthrough)
    }
}
