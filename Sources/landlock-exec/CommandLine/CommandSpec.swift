// SPDX-License-Identifier: Apache-2.0

/// What the words after a subcommand's options are.
enum Operands: Sendable {
    /// None: a word that is not an option is refused.
    case none
    /// The command to run: `--` or the first word that is not an option starts it.
    case command(help: String)
    /// The command to run, from the first word whatever it is (`sandboxer`): only `--help`
    /// or `-h` as the first word are answered, and a leading `--` is dropped.
    case passthrough(help: String)
}

/// A subcommand: its text, its option table, and what it does with the words after its
/// options.
struct CommandSpec<Options>: Sendable {
    var name: String
    var abstract: String
    var discussion: String
    var options: [OptionSpec<Options>]
    var operands: Operands
    /// Stores the command's words (without the `--` that introduces them).
    var setCommand: @Sendable (inout Options, [String]) -> Void = { _, _ in }
    /// The checks across options, once all are parsed; throws a `ValidationError`.
    var validate: @Sendable (Options) throws -> Void = { _ in }

    /// Where the option whose long name is `name` is in the table, if any (a linear search: the
    /// tables are short, and nothing is hashed at start-up).
    func index(named name: Substring) -> Int? {
        for index in options.indices where options[index].long.utf8.elementsEqual(name.utf8) { return index }
        return nil
    }

    func index(short letter: Unicode.Scalar) -> Int? {
        for index in options.indices where options[index].short == letter { return index }
        return nil
    }

    /// `landlock-exec run [<options>] [<command> ...]`: each option in order (required ones
    /// bare, others in brackets), abbreviated to `[<options>]` when that is too long.
    var usage: String {
        let start = "landlock-exec " + name
        var tail = ""
        switch operands {
        case .none: break
        case .command, .passthrough: tail = " [<command> ...]"
        }
        var words = start
        for option in options {
            let synopsis = option.synopsis() + (option.repeatable ? " ..." : "")
            words += option.required ? " " + synopsis : " [" + synopsis + "]"
        }
        if ("USAGE: " + words + tail).count <= HelpText.width { return words + tail }
        return start + " [<options>]" + tail
    }
}
