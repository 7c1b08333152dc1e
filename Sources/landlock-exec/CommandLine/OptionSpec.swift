// SPDX-License-Identifier: Apache-2.0

/// What an option takes.
enum OptionKind: Sendable {
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
enum ValueCompletion: Sendable {
    case none
    /// Paths of files and directories.
    case files
}

/// One option of a subcommand: everything the parser, the help, the completion scripts and
/// the error messages know about it.
///
/// Each subcommand declares its options once, as a table of these (`RunOptions.spec`,
/// `Learn.spec`, ...). Parsing walks the command line once against the table; `--help`,
/// `landlock-exec --help` and `--generate-completion-script` are rendered from it.
struct OptionSpec<Options>: Sendable {
    /// The name after `--`: `ro` for `--ro`.
    var long: String
    /// The letter after `-`, if the option has one: `v` for `-v`.
    var short: Unicode.Scalar?
    var kind: OptionKind
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
