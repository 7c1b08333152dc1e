// SPDX-License-Identifier: Apache-2.0

/// The `--help` text of a subcommand, rendered from its table in swift-argument-parser's
/// layout (which this tool used before): sections in capitals, option labels in a 26-column
/// gutter, everything wrapped at 80 columns.
enum HelpText {
    static let width = 80
    /// Where option descriptions start.
    static let gutter = 26

    static func render<Options>(_ spec: CommandSpec<Options>, usage: String? = nil) -> String {
        var text = wrap("OVERVIEW: " + spec.abstract) + "\n\n"
        if !spec.discussion.isEmpty { text += wrap(spec.discussion) + "\n\n" }
        text += "USAGE: " + (usage ?? spec.usage) + "\n\n"
        switch spec.operands {
        case .none: break
        case .command(let help), .passthrough(let help): text += "ARGUMENTS:\n" + row("<command>", help) + "\n"
        }
        var groups: [String] = []
        for option in spec.options where option.group != "Options" && !groups.contains(option.group) {
            groups.append(option.group)
        }
        for group in groups + ["Options"] {
            text += group.uppercased() + ":\n"
            for option in spec.options where option.group == group { text += row(option) }
            if group == "Options" {
                if case .passthrough = spec.operands {} else { text += row("--version", "Show the version.") }
                text += row("-h, --help", "Show help information.")
            }
            text += "\n"
        }
        return text
    }

    /// One option: its label, its help (with its values and default), then its discussion.
    static func row<Options>(_ option: OptionSpec<Options>) -> String {
        var help = option.help
        if !option.choices.isEmpty {
            help += " (values: " + option.choices.joined(separator: ", ")
            if !option.defaultValue.isEmpty { help += "; default: " + option.defaultValue }
            help += ")"
        } else if !option.defaultValue.isEmpty {
            help += " (default: " + option.defaultValue + ")"
        }
        var text = row(option.label, help)
        if !option.discussion.isEmpty { text += wrap(option.discussion, indent: 8) + "\n" }
        return text
    }

    /// `  label                   help...`, the label alone on its line when it reaches the gutter.
    static func row(_ label: String, _ help: String) -> String {
        let wrapped = wrap(help, indent: gutter)
        let description = wrapped.dropFirst(min(gutter, wrapped.count))
        let label = "  " + label
        if label.count < gutter { return label + String(repeating: " ", count: gutter - label.count) + description + "\n" }
        return label + "\n" + wrapped + "\n"
    }

    /// `text` wrapped at `width` columns, each line indented by `indent` spaces: a line breaks at
    /// its last space before the margin (a line that continues never reaches it), or after an
    /// overlong word; line breaks in `text` are kept. The same layout as swift-argument-parser's.
    static func wrap(_ text: String, indent: Int = 0) -> String {
        let characters = Array(text)
        let columns = width - indent
        var lines: [String] = []
        var start = 0
        while true {
            let end = min(start + columns, characters.count)
            let chunk = characters[start..<end]
            if let lineBreak = chunk.lastIndex(of: "\n") {
                lines += String(characters[start..<lineBreak]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                start = lineBreak + 1
            } else if end == characters.count {
                lines.append(String(chunk))
                break
            } else if let space = chunk.lastIndex(of: " ") {
                lines.append(String(characters[start..<space]))
                start = space + 1
            } else if let space = characters[start...].firstIndex(of: " ") {
                lines.append(String(characters[start..<space]))
                start = space + 1
            } else {
                lines.append(String(characters[start...]))
                break
            }
        }
        let margin = String(repeating: " ", count: indent)
        return lines.map { $0.isEmpty ? $0 : margin + $0 }.joined(separator: "\n")
    }
}
