// SPDX-License-Identifier: Apache-2.0

/// What a subcommand's command line asks for.
enum ParseOutcome<Options> {
    case options(Options)
    /// `--help` or `-h` among the options.
    case help
    /// `--version` among the options.
    case version
    /// `--generate-completion-script [SHELL]` (`run` only); nil: the user's shell.
    case completionScript(String?)
}

/// Parses a subcommand's words against its option table, in one pass over the words.
///
/// The conventions are swift-argument-parser's, which this tool used before: `--opt value` and
/// `--opt=value`; short flags that combine (`-vq`); `--` ends the options; the first word that
/// is not an option starts the command (so `landlock-exec ls -l` runs `ls -l`); a repeatable
/// option keeps its values in order; refused values are reported with the option's help.
struct CommandLineParser<Options> {
    var spec: CommandSpec<Options>
    /// Whether `--generate-completion-script` is answered (the default subcommand).
    var offersCompletionScripts = false

    func parse(_ words: ArraySlice<String>, into initial: Options) throws(UsageError) -> ParseOutcome<Options> {
        var options = initial
        if case .passthrough = spec.operands {
            if let first = words.first, first == "--help" || first == "-h" { return .help }
            let command = words.first == "--" ? words.dropFirst() : words
            spec.setCommand(&options, Array(command))
            return .options(try validated(options))
        }
        var index = words.startIndex
        /// Which options of the table were given (for the required ones).
        var given: [Bool] = Array(repeating: false, count: spec.options.count)
        while index < words.endIndex {
            let word = words[index]
            index += 1
            if word == "--" {
                if case .none = spec.operands, index < words.endIndex {
                    throw spec.error("Unexpected argument '\(words[index])'")
                }
                spec.setCommand(&options, Array(words[index...]))
                return .options(try validated(options, given: given))
            }
            guard word.utf8.count > 1, word.utf8.first == UInt8(ascii: "-") else {
                if case .none = spec.operands { throw spec.error("Unexpected argument '\(word)'") }
                spec.setCommand(&options, Array(words[(index - 1)...]))
                return .options(try validated(options, given: given))
            }
            if word == "--help" || word == "-h" || word == "-help" { return .help }
            if word == "--version" { return .version }
            if word.utf8.dropFirst().first == UInt8(ascii: "-") {
                // --name or --name=value
                let body = word.dropFirst(2)
                var name = body
                var attached: Substring?
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    attached = body[body.index(after: equals)...]
                }
                if offersCompletionScripts, name == "generate-completion-script" {
                    if let attached { return .completionScript(String(attached)) }
                    if index < words.endIndex, !words[index].hasPrefix("-") { return .completionScript(words[index]) }
                    return .completionScript(nil)
                }
                guard let position = spec.index(named: name) else { throw unknown(word) }
                let option = spec.options[position]
                try take(option, spelled: "--" + option.long, attached: attached, words, &index, &options)
                given[position] = true
            } else {
                // -v, or a cluster of short flags such as -vq (the last may take a value)
                let letters = Array(word.unicodeScalars.dropFirst())
                for (position, letter) in letters.enumerated() {
                    if letter == "h" && spec.index(short: letter) == nil { return .help }
                    guard let found = spec.index(short: letter) else {
                        throw position == 0 ? unknown(word) : spec.error("Unknown option '-\(Character(letter))'")
                    }
                    let option = spec.options[found]
                    if option.takesValue && position != letters.count - 1 {
                        throw spec.error("Unknown option '\(word)'")
                    }
                    try take(option, spelled: "-" + String(Character(letter)), attached: nil, words, &index, &options)
                    given[found] = true
                }
            }
        }
        spec.setCommand(&options, [])
        return .options(try validated(options, given: given))
    }

    private func unknown(_ word: String) -> UsageError {
        switch spec.operands {
        case .none: spec.error("Unknown option '\(word)'")
        default: spec.error("Unknown option '\(word)'. To run a command whose name starts with '-', put it after --.")
        }
    }

    /// Reads the option's value (if it takes one) and stores it.
    private func take(
        _ option: OptionSpec<Options>, spelled: String, attached: Substring?, _ words: ArraySlice<String>,
        _ index: inout Int, _ options: inout Options
    ) throws(UsageError) {
        var value = ""
        switch option.kind {
        case .flag:
            if let attached {
                throw spec.error("The option '\(spelled)' does not take any value, but '\(attached)' was specified.")
            }
        case .port, .value, .choice:
            if let attached {
                value = String(attached)
            } else if index < words.endIndex, option.kind.takesAnyWord || !Self.looksLikeOption(words[index]) {
                value = words[index]
                index += 1
            } else {
                throw spec.error("Missing value for '\(option.synopsis(spelled))'", option: option, spelled: spelled)
            }
        }
        let choices = option.choices
        if !choices.isEmpty && !choices.contains(value) {
            throw spec.error(
                "The value '\(value)' is invalid for '\(option.synopsis(spelled))'. " + Self.pleaseProvide(choices),
                option: option, spelled: spelled)
        }
        do {
            try option.apply(&options, value)
        } catch let error as ValueError {
            throw spec.error(
                "The value '\(value)' is invalid for '\(option.synopsis(spelled))': \(error.reason)", option: option,
                spelled: spelled)
        } catch {
            throw spec.error("\(error)", option: option, spelled: spelled)
        }
    }

    /// Required options present, then the subcommand's checks across options.
    private func validated(_ options: Options, given: [Bool] = []) throws(UsageError) -> Options {
        for (index, option) in spec.options.enumerated() where option.required && !given[index] {
            throw spec.error("Missing expected argument '\(option.synopsis())'", option: option)
        }
        do {
            try spec.validate(options)
        } catch let error as ValidationError {
            throw spec.error(error.message)
        } catch {
            throw spec.error("\(error)")
        }
        return options
    }

    /// `-x`, `--x`: a word a value-taking option does not take as its value (`-` alone is a value).
    static func looksLikeOption(_ word: String) -> Bool {
        word.utf8.first == UInt8(ascii: "-") && word.utf8.count > 1
    }

    /// "Please provide one of 'a', 'b' or 'c'.", or a list when there are many.
    static func pleaseProvide(_ choices: [String]) -> String {
        if choices.count > 4 {
            return "Please provide one of the following:" + choices.map { "\n  - " + $0 }.joined()
        }
        let quoted = choices.map { "'" + $0 + "'" }
        return "Please provide one of " + quoted.dropLast().joined(separator: ", ") + " or " + quoted.last! + "."
    }
}

extension OptionKind {
    /// Whether the next word is the value even when it starts with `-`.
    var takesAnyWord: Bool {
        if case .port = self { return true }
        return false
    }
}
