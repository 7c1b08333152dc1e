// SPDX-License-Identifier: Apache-2.0
// landlock-probe: runs the network conformance table (Conformance/*.table) on the running
// kernel, through the library (kernel mode) or through the UDP supervisor (supervisor mode).
import Landlock
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: landlock-probe --table FILE|DIR [--mode kernel|supervisor] [--row NAME]...
                          [--context main|thread|fork|exec]... [--verbose] [--list]

    Runs every row of the conformance table (a file, or every *.table file of a directory)
    and prints one line per case (row and context):
      PASS NAME[CONTEXT]
      FAIL NAME[CONTEXT] (op N '...': expected EACCES, got 0; ...)
      SKIP NAME[CONTEXT] (reason, from the sandbox status)
      DIVERGENCE NAME[CONTEXT] (known difference of the supervisor from Linux 7.2: ...)
    then `conformance(MODE): N passed, N failed, N skipped` and one
    `conformance(MODE): skipped N: REASON` line per distinct skip reason.
    Exit status: 0 when no case failed, 1 otherwise, 2 on usage or table errors.

      --mode kernel       the UDP rights through the kernel only (udp: .kernelOnly): rows
                          that need them are skipped on kernels before Landlock ABI 10
      --mode supervisor   the UDP rights through the seccomp supervisor, even on ABI 10
      --row NAME          only this row (repeatable)
      --context C         only this context (repeatable)
      --verbose           print the sandbox status of every case
      --list              list the cases and exit

    """

func die(_ message: String) -> Never {
    writeAll(2, "landlock-probe: error: \(message)\n")
    exit(2)
}

func emit(_ line: String) { writeAll(1, line + "\n") }

func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        data += buffer[..<count]
    }
    return String(decoding: data, as: UTF8.self)
}

/// The table files: FILE itself, or the *.table files of a directory, sorted.
func tableFiles(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [path] }
    defer { closedir(directory) }
    var files: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name.hasSuffix(".table") { files.append(path + "/" + name) }
    }
    return files.sorted()
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--execute-row" {
    do throws(TableError) {
        executeRow(try ChildArguments(parsing: arguments))
    } catch {
        die("\(error)")
    }
}

struct Options {
    var tablePath: String?
    var mode = ProbeMode.kernel
    var onlyRows: [String] = []
    var onlyContexts: [ExecutionContext] = []
    var verbose = false
    var listOnly = false
}

func parseOptions(_ arguments: [String]) -> Options {
  var options = Options()
  var index = 0
  func nextValue() -> String {
    index += 1
    guard index < arguments.count else { die("missing value after \(arguments[index - 1])") }
    return arguments[index]
  }
  while index < arguments.count {
    switch arguments[index] {
    case "--table": options.tablePath = nextValue()
    case "--mode":
        let value = nextValue()
        guard let parsed = ProbeMode(rawValue: value) else { die("unknown mode '\(value)' (kernel or supervisor)") }
        options.mode = parsed
    case "--row": options.onlyRows.append(nextValue())
    case "--context":
        let value = nextValue()
        guard let parsed = ExecutionContext(rawValue: value) else { die("unknown context '\(value)'") }
        options.onlyContexts.append(parsed)
    case "--verbose", "-v": options.verbose = true
    case "--list": options.listOnly = true
    case "--help", "-h":
        writeAll(1, usage)
        exit(0)
    default: die("unknown argument '\(arguments[index])'\n\(usage)")
    }
    index += 1
  }
  return options
}
let options = parseOptions(arguments)
let mode = options.mode
let verbose = options.verbose
let onlyRows = options.onlyRows
let onlyContexts = options.onlyContexts
guard let tablePath = options.tablePath else { die("--table is required\n\(usage)") }

var rows: [RowSpec] = []
for file in tableFiles(tablePath) {
    guard let text = readFile(file) else { die("cannot read \(file)") }
    do throws(TableError) {
        rows += try parseTable(text)
    } catch {
        die("\(file): \(error)")
    }
}
for name in onlyRows where !rows.contains(where: { $0.name == name }) { die("no row named '\(name)'") }
if !onlyRows.isEmpty { rows = rows.filter { onlyRows.contains($0.name) } }

var cases: [(RowSpec, ExecutionContext)] = []
for row in rows {
    for context in row.contexts where onlyContexts.isEmpty || onlyContexts.contains(context) {
        cases.append((row, context))
    }
}
if options.listOnly {
    for (row, context) in cases { emit("\(row.name)[\(context.rawValue)]  abi \(row.abi)") }
    exit(0)
}

signal(SIGPIPE, SIG_IGN)
var name = utsname()
uname(&name)
let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
let runner = Runner(mode: mode, verbose: verbose)
let tag = "conformance(\(mode.rawValue))"
emit("\(tag): kernel \(release), \(runner.landlock), \(rows.count) rows, \(cases.count) cases")

var passed = 0
var failed = 0
var skipped = 0
var divergences = 0
var skipReasons: [String: Int] = [:]
var skipOrder: [String] = []
for (row, context) in cases {
    let outcome = runner.run(row, context: context)
    switch outcome.verdict {
    case .pass:
        passed += 1
        emit("PASS \(outcome.name)")
    case .fail(let why):
        failed += 1
        emit("FAIL \(outcome.name) (\(why))")
    case .skip(let why):
        skipped += 1
        if skipReasons[why] == nil { skipOrder.append(why) }
        skipReasons[why, default: 0] += 1
        emit("SKIP \(outcome.name) (\(why))")
    case .knownDivergence(let why):
        divergences += 1
        emit("DIVERGENCE \(outcome.name) (known difference of the supervisor from Linux 7.2: \(why))")
    }
    if verbose || { if case .fail = outcome.verdict { return true } else { return false } }() {
        for line in outcome.detail { emit("    \(line)") }
    }
}
emit("\(tag): \(passed) passed, \(failed) failed, \(skipped) skipped" + (divergences > 0 ? ", \(divergences) known divergences" : ""))
for reason in skipOrder { emit("\(tag): skipped \(skipReasons[reason]!): \(reason)") }
exit(failed == 0 ? 0 : 1)
