// SPDX-License-Identifier: Apache-2.0
// swift-exec-floor PROGRAM [ARGUMENT...]: execv's its argument and does nothing else.
//
// The start-up floor of any Swift command-line tool here: built like landlock-exec (release,
// --static-swift-stdlib), it pays process start and the Swift runtime's initialization and
// nothing of its own. landlock-bench's start-up table measures it beside landlock-exec, so
// that landlock-exec's goals (at most +0.7 ms over it without the supervisor, +1.5 ms with it)
// are checked in the same run.
#if canImport(Glibc)
    import Glibc
#endif

let words = CommandLine.arguments.dropFirst()
guard let program = words.first else { exit(64) }
var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
execv(program, &argv)
exit(127)
