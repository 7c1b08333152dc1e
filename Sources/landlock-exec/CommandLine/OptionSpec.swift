// SPDX-License-Identifier: Apache-2.0

/// One option of a subcommand: everything the parser, the help, the completion scripts and
/// the error messages know about it.
///
/// Each subcommand declares its options once, as a table of these (`RunOptions.spec`,
/// `Learn.spec`, ...). Parsing walks the command line once against the table; `--help`,
/// `landlock-exec --help` and `--generate-completion-script` are rendered from it.
struct OptionSpec<Options>: Sendable {
    /// What the option takes.
    enum Kind {
        /// No value: `--system`.
        case flag
        /// One value, the next word unless it looks like an option (`--ro -x` is refused as a
        /// missing value), or the text after `=`.
        case value
        /// A port or a range: the next word whatever it is, so that `--connect-tcp -1` is told
        /// it is out of range rather than that its value is missing.
        case port
        /// One of `values`.
        case choice(_ values: [String])
    }

    /// How a shell completes the value.
    enum ValueCompletion {
        case none
        /// Paths of files and directories.
        case files
    }

    /// The name after `--`: `ro` for `--ro`.
    var long: String
    /// The letter after `-`, if the option has one: `v` for `-v`.
    var short: Unicode.Scalar?
    var kind: Kind
    /// The value's name in help and messages: `path` in `--ro <path>`.
    var valueName = ""
    /// One sentence for help and completions.
    var help: String
    /// More text, printed under the option in `--help`.
    var discussion = ""
    /// The title of the help section the option is listed in.
    var group = "Options"
    /// Whether it may be given several times, each value kept in order (otherwise the last
    /// one counts).
    var repeatable = false
    /// The value used when the option is absent, shown in help.
    var defaultValue = ""
    /// Whether the command line must give it.
    var required = false
    var completion = ValueCompletion.none
    /// Stores a value (the empty string for a flag) into the parsed options; throws a
    /// `ValueError` to refuse it.
    var apply: @Sendable (inout Options, String) throws -> Void

    /// `--ro <path>` (or `-o <file>` when `spelling` is the short name).
    func synopsis(_ spelling: String? = nil) -> String {
        let name = spelling ?? "--" + long
        if case .flag = kind { return name }
        return name + " <" + valueName + ">"
    }

    /// The words naming the option in help: `-v, --verbose` or `--ro <path>`.
    var label: String {
        if let short { return "-" + String(Character(short)) + ", " + synopsis() }
        return synopsis()
    }

    var takesValue: Bool {
        if case .flag = kind { return false }
        return true
    }

    var choices: [String] {
        if case .choice(let values) = kind { return values }
        return []
    }
}

/// A subcommand: its text, its option table, and what it does with the words after its
/// options.
struct CommandSpec<Options>: Sendable {
    /// What the words after the options are.
    enum Operands {
        /// None: a word that is not an option is refused.
        case none
        /// The command to run: `--` or the first word that is not an option starts it.
        case command(help: String)
        /// The command to run, from the first word whatever it is (`sandboxer`): only `--help`
        /// or `-h` as the first word are answered, and a leading `--` is dropped.
        case passthrough(help: String)
    }

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
