// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A check across options failed: a polite, corrective sentence (`validate()` throws it).
struct ValidationError: Error {
    var message: String

    init(_ message: String) { self.message = message }
}

/// A value an option refuses: why, in a sentence ("port 70000 is out of range; ...").
struct ValueError: Error {
    var reason: String

    init(_ reason: String) { self.reason = reason }
}

/// A command line `landlock-exec` refuses: printed on standard error as
///
///     Error: <message>
///     Help:  <option>  <its help>          (when one option is at fault)
///     Usage: landlock-exec <subcommand> ...
///       See 'landlock-exec <subcommand> --help' for more information.
///
/// and the process exits 64 (`EX_USAGE`).
struct UsageError: Error {
    var message: String
    /// The option at fault, as spelled, and its help sentence.
    var option: (synopsis: String, help: String)?
    /// The subcommand's usage line and name, for the last two lines.
    var usage: String
    var command: String

    /// Everything printed on standard error.
    var text: String {
        var text = "Error: " + message + "\n"
        if let option { text += "Help:  " + option.synopsis + "  " + option.help + "\n" }
        text += "Usage: " + usage + "\n"
        text += "  See 'landlock-exec " + command + "--help' for more information.\n"
        return text
    }

    func exit() -> Never {
        writeStandardError(text)
        Glibc.exit(ExitStatus.usage)
    }
}

extension CommandSpec {
    func error(_ message: String, option: OptionSpec<Options>? = nil, spelled: String? = nil) -> UsageError {
        UsageError(
            message: message, option: option.map { ($0.synopsis(spelled), $0.help) }, usage: usage,
            command: name.isEmpty ? "" : name + " ")
    }
}
