// SPDX-License-Identifier: Apache-2.0
import Landlock
import SandboxSupport
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exit statuses of `landlock-exec`. The command's own status is passed through
/// unchanged (the process *becomes* the command), so these are the only codes the tool itself
/// produces. They follow `env(1)`: 125 for the tool's own failure, 126 and 127 for the command.
enum ExitStatus {
    /// The command line, the `LL_*` variables or the policy file are invalid (`EX_USAGE`).
    static let usage: Int32 = 64
    /// The sandbox could not be set up: a path that does not exist, a request the kernel
    /// cannot enforce in strict mode, Landlock missing, or a failed system call.
    static let sandboxFailed: Int32 = 125
    /// The command was found but could not be executed (`EACCES`, `ENOEXEC`, ...).
    static let cannotExecute: Int32 = 126
    /// The command was not found.
    static let notFound: Int32 = 127
}

/// A failure of the tool itself: one sentence, the `Hint:` lines that say how to fix it, and
/// the exit status.
struct ToolFailure: Error {
    var message: String
    var hints: [String]
    var status: Int32

    init(_ message: String, hints: [String] = [], status: Int32 = ExitStatus.sandboxFailed) {
        self.message = message
        self.hints = hints
        self.status = status
    }

    /// Prints the failure on standard error and exits with its status.
    func exit() -> Never {
        var text = "landlock-exec: error: \(message)\n"
        for hint in hints { text += "Hint: \(hint)\n" }
        writeStandardError(text)
        Glibc.exit(status)
    }
}

/// Writes to standard error without buffering.
func writeStandardError(_ text: String) {
    writeAll(2, text)
}

/// Prints a warning line on standard error.
func warn(_ text: String) {
    writeStandardError("landlock-exec: warning: \(text)\n")
}

/// `Failed to ...: No such file or directory (ENOENT)` for a raw errno.
func errnoSentence(_ code: Int32) -> String {
    let error = Errno(rawValue: code)
    return "\(error.sentence) (\(error.symbol))"
}

/// The hints for a kernel without usable Landlock.
enum KernelHints {
    static let notImplemented =
        "this kernel was built without Landlock: rebuild it with CONFIG_SECURITY_LANDLOCK=y and "
        + "\"landlock\" in CONFIG_LSM, or boot a distribution kernel that has it (Linux 5.13 or later)"
    static let notEnabled =
        "Landlock is built in but not enabled at boot: add \"landlock\" to the lsm= boot parameter, "
        + "keeping the modules already listed in /sys/kernel/security/lsm (for example "
        + "lsm=landlock,lockdown,yama,integrity,apparmor), or put it first in CONFIG_LSM"

    static func forStatus(_ status: LandlockStatus) -> [String] {
        switch status {
        case .notImplemented: [notImplemented]
        case .notEnabled: [notEnabled]
        case .available: []
        }
    }
}
