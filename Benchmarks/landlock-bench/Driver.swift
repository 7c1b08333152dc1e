// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor
import SandboxSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `landlock-bench run`: every comparison measured in this one process run, native and
/// sandboxed runs interleaved round by round (the order alternates), medians over rounds.
struct Driver {
    var quick = false
    /// Inside the Linux 7.2 guest: UDP workloads only, native vs kernel Landlock vs supervisor.
    var guest = false
    var seconds: Double? = nil
    var rounds: Int? = nil
    var startupIterations: Int? = nil
    var groups: Set<String> = ["startup", "udp", "stream", "memory"]
    var landlockExec: String? = nil
    /// Another landlock-exec (an earlier build) whose start-up rows run in the same run, after
    /// this one's, labelled "compared".
    var comparedLandlockExec: String? = nil
    /// What was measured (commit, local changes), printed in the header.
    var state: String? = nil

    let executable = selfExecutable()
    var udpPort: UInt16 = 0
    var tcpPort: UInt16 = 0
    var directory = ""
    var kernelABI: LandlockABI? = nil

    var roundCount: Int { rounds ?? (quick ? 3 : 9) }
    var runSeconds: Double { seconds ?? (quick ? 0.03 : 0.3) }
    var spawnIterations: Int { startupIterations ?? (quick ? 8 : 60) }

    mutating func run() {
        signal(SIGPIPE, SIG_IGN)
        kernelABI = LandlockStatus.current.abi
        udpPort = freePort(udpType)
        tcpPort = freePort(streamType)
        var template = Array("/tmp/landlock-bench.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { fail("mkdtemp", errno: errno) }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { rmdir(directory) }

        printHeader()
        if guest {
            guestTable()
            return
        }
        if groups.contains("startup") { startupTable() }
        if groups.contains("udp") {
            workloadTable("UDP under the supervisor against native", Workload.allCases.filter(\.isUDP) + [.getppid])
        }
        if groups.contains("stream") {
            workloadTable(
                "TCP and UNIX under the supervisor against native (programs that never use UDP)",
                Workload.allCases.filter { !$0.isUDP && $0 != .getppid })
        }
        if groups.contains("memory") { memoryTable() }
    }

    // MARK: Header

    func printHeader() {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let abi = kernelABI.map { "\($0)" } ?? "none"
        printLine("# landlock-bench \(guest ? "(guest) " : "")\(quick ? "--quick" : "full")")
        printLine("")
        printLine("- kernel: Linux \(release) \(machine), \(cpus) CPUs online, Landlock \(abi)")
        if let state { printLine("- measured: \(state)") }
        printLine("- supervisor: \(SupervisorAvailability.current)")
        printLine(
            "- method: \(roundCount) rounds; each round runs every variant of a row back to back "
                + "(the order rotates each round); workloads loop for \(format(runSeconds, 2)) s per run"
                + (guest ? "" : ", start-up rows time \(spawnIterations) spawns of each variant per round, the variants spawned in turn (median per round)")
                + "; cells are medians over rounds; ratios are medians of the per-round ratios")
        printLine("")
    }

    // MARK: Start-up

    func startupTable() {
        printLine("## Start-up: spawn and wait for /bin/true")
        printLine("")
        printLine("| command | native | sandboxed | added | ratio | over the Swift floor | goal | met |")
        printLine("|---|---|---|---|---|---|---|---|")
        let native: () -> Void = {
            waitFor(start(.native, path: "/bin/true", arguments: [], ruleset: Ruleset(), quiet: true))
        }
        // The floor of any static Swift tool: a program that only execv's its argument.
        let floorPath = directoryName(executable) + "/swift-exec-floor"
        let floor: (() -> Void)? =
            access(floorPath, X_OK) == 0 ? { self.checkCLI(floorPath, ["/bin/true"], environment: []) } : nil
        if floor != nil {
            startupRow("reference, the Swift floor: `swift-exec-floor /bin/true` (static stdlib, only execv)", native: native, sandboxed: floor!)
        } else {
            printLine("| reference, the Swift floor | — | — | — | — | — | — | not measured: swift-exec-floor not found beside landlock-bench |")
        }
        let clis = (landlockExec ?? locateLandlockExec()).map { [("", $0)] + (comparedLandlockExec.map { [("compared build: ", $0)] } ?? []) }
        for (label, cli) in clis ?? [] {
            let help = capture(cli, ["--help"]).output
            let hasFlag = help.contains("--udp-supervisor")
            let never = hasFlag ? ["--udp-supervisor", "never"] : []
            // Kernel paths: goal +0.7 ms over the floor; supervisor paths: +1.5 ms.
            let rows: [(arguments: [String], environment: [String], overFloor: Double?)] = [
                (["--quiet", "--rox", "/usr", "--ro", "/etc"] + never + ["--", "/bin/true"], [], 0.7),
                (["--rox", "/", "--rw", "/tmp", "--connect-tcp", "443", "--unrestricted", "udp"] + never + ["--", "/bin/true"], [], 0.7),
                (["sandboxer", "/bin/true"], ["LL_SCOPED=a:s"], 0.7),
                (["--version"], [], nil),
            ] + (hasFlag ? [
                (["--quiet", "--rox", "/usr", "--ro", "/etc", "--udp-supervisor", "always", "--", "/bin/true"], [], 1.5),
                (["--rox", "/", "--rw", "/tmp", "--connect-tcp", "443", "--", "/bin/true"], [], 1.5),
                (["sandboxer", "/bin/true"], ["LL_FS_RO=/", "LL_FS_RW=/tmp", "LL_TCP_CONNECT=443"], 1.5),
            ] : [])
            for row in rows {
                let name = label
                    + "`" + (row.environment.map { $0 + " " }.joined()) + "landlock-exec \(row.arguments.joined(separator: " "))`"
                    + (row.arguments == ["--version"] ? " (reference: no sandbox, no command)" : "")
                startupRow(
                    name, goalOverFloor: row.overFloor, native: native, floor: floor,
                    sandboxed: { checkCLI(cli, row.arguments, environment: row.environment) })
            }
        }
        if clis == nil {
            printLine(
                "| `landlock-exec` | — | — | — | — | — | — | not measured: landlock-exec not found beside landlock-bench |"
            )
        }
        for variant in [Variant.kernel, .supervisor] {
            let check = statusCheck(variant, kernelUDP: false)
            startupRow(
                "library: `SandboxedCommand(udp: .\(variant == .kernel ? "kernelOnly" : "supervisor"))` prepare, spawn, wait",
                goal: variant == .kernel ? 2 : 5, native: native,
                sandboxed: {
                    let pid = start(
                        variant, path: "/bin/true", arguments: [], ruleset: Policies.typical(), expectStatus: check)
                    if waitFor(pid) != 0 { fail("/bin/true failed in the \(variant.rawValue) sandbox") }
                })
        }
        printLine("")
    }

    func checkCLI(_ cli: String, _ arguments: [String], environment: [String]) {
        let status = waitFor(
            start(.native, path: cli, arguments: arguments, ruleset: Ruleset(), quiet: true, addingEnvironment: environment))
        if status != 0 { fail("\(cli) \(arguments.joined(separator: " ")) exited with \(status)") }
    }

    func locateLandlockExec() -> String? {
        let candidate = directoryName(executable) + "/landlock-exec"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    /// One row: native and sandboxed (and the Swift floor, when given) spawned in turn, spawn by
    /// spawn, the order rotating. `goal` is in milliseconds over native, `goalOverFloor` over the floor.
    func startupRow(
        _ name: String, goal: Double? = nil, goalOverFloor: Double? = nil, native: @escaping () -> Void,
        floor: (() -> Void)? = nil, sandboxed: @escaping () -> Void
    ) {
        var variants: [() -> Void] = [native, sandboxed]
        if let floor { variants.append(floor) }
        // Warm up every variant (page cache, the supervisor availability probe).
        for _ in 0..<3 { for variant in variants { variant() } }
        var runs = Array(repeating: [Double](), count: variants.count)
        for round in 0..<roundCount {
            // Spawn by spawn, the variants in turn (the order rotating), so that a slow spell of
            // this shared machine falls on every variant alike: timing a block of spawns of
            // one variant, then the next, let such spells move a difference by 0.3 ms.
            var samples = Array(repeating: [Double](), count: variants.count)
            for iteration in 0..<spawnIterations {
                for step in 0..<variants.count {
                    let index = (round + iteration + step) % variants.count
                    let before = MonotonicClock.nanoseconds
                    variants[index]()
                    samples[index].append(Double(MonotonicClock.nanoseconds - before) / 1e6)
                }
            }
            for index in variants.indices { runs[index].append(median(samples[index])) }
        }
        let (nativeRuns, sandboxRuns) = (runs[0], runs[1])
        let added = median(zip(sandboxRuns, nativeRuns).map { $0 - $1 })
        let ratio = median(zip(sandboxRuns, nativeRuns).map { $0 / $1 })
        let overFloor = floor == nil ? nil : median(zip(sandboxRuns, runs[2]).map { $0 - $1 })
        let goalCells: String
        if let goalOverFloor {
            goalCells = "≤ floor +\(format(goalOverFloor, 1)) ms | "
                + (overFloor.map { $0 <= goalOverFloor ? "yes" : "**MISSED**" } ?? "not measured (no floor)") + " |"
        } else if let goal {
            goalCells = "≤ +\(format(goal, 0)) ms | \(added <= goal ? "yes" : "**MISSED**") |"
        } else {
            goalCells = "— | — |"
        }
        printLine(
            "| \(name) | \(format(median(nativeRuns), 2)) ms | \(format(median(sandboxRuns), 2)) ms | "
                + "+\(format(added, 2)) ms | \(format(ratio, 2))x time | "
                + (overFloor.map { "\($0 < 0 ? "" : "+")\(format($0, 2)) ms | " } ?? "— | ") + goalCells)
    }

    // MARK: Workloads

    /// Runs `workload` once as `variant`; returns nanoseconds per operation.
    func measure(_ workload: Workload, _ variant: Variant) -> Double {
        var fds: [Int32] = [0, 0]
        guard let pipe = closeOnExecPipe() else { fail("pipe2", errno: errno) }
        fds = pipe
        let arguments =
            [
                "workload", workload.rawValue, "--seconds", format(runSeconds, 3), "--udp-port", "\(udpPort)",
                "--tcp-port", "\(tcpPort)", "--dir", directory, "--result-fd", "\(fds[1])",
            ] + (variant == .allowAllFilter ? ["--allow-all-filter"] : [])
            + (variant == .trapFloor ? ["--trap-floor"] : [])
        let nest = variant == .nested ? ["nest", "--udp-port", "\(udpPort)", "--tcp-port", "\(tcpPort)", "--", executable] : []
        let viaCLI = variant == .landlockExec ? Policies.landlockExecArguments(
            executable: executable, udpPort: udpPort, tcpPort: tcpPort, directory: directory) : []
        let pid = start(
            variant, path: variant == .landlockExec ? (landlockExec ?? locateLandlockExec()!) : executable,
            arguments: (viaCLI.isEmpty ? [] : viaCLI + [executable]) + nest + arguments,
            ruleset: Policies.workload(
                executable: executable, udpPort: udpPort, tcpPort: tcpPort, directory: directory),
            inherit: [fds[1]], expectStatus: statusCheck(variant, kernelUDP: (kernelABI ?? .v1) >= .v10))
        close(fds[1])
        let output = readAll(fds[0])
        close(fds[0])
        let status = waitFor(pid)
        guard status == 0 else { fail("\(workload.rawValue) (\(variant.rawValue)) exited with \(status): \(output)") }
        var fields: [String: String] = [:]
        for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let perOp = fields["ns_per_op"].flatMap(Double.init), let ops = fields["ops"].flatMap(Int.init) else {
            fail("\(workload.rawValue) (\(variant.rawValue)) printed no result: \(output)")
        }
        if let received = fields["received"].flatMap(Int.init), received < ops {
            fail("\(workload.rawValue) (\(variant.rawValue)): \(ops) datagrams sent, only \(received) received")
        }
        return perOp
    }

    /// Runs every variant `roundCount` times, rotating the order each round.
    func interleave(_ workload: Workload, _ variants: [Variant]) -> [Variant: [Double]] {
        for variant in variants { _ = measure(workload, variant) }  // warm-up, not recorded
        var results: [Variant: [Double]] = [:]
        for round in 0..<roundCount {
            let shift = round % variants.count
            for variant in variants[shift...] + variants[..<shift] {
                results[variant, default: []].append(measure(workload, variant))
            }
        }
        return results
    }

    /// The goals of the supervisor rebuild (fraction of native throughput kept).
    static func goal(_ workload: Workload) -> Double? {
        switch workload {
        case .udpSendto, .udpSendmsgAddress, .udpSendmsgConnected, .udpSendmmsg: 0.25
        case .udpConnectCycle: 0.40
        case .tcpConnect: 0.60
        case .unixConnect, .tcpSendmsgSmall: 0.50
        case .udpSendConnected, .tcpStream: 0.95
        default: nil
        }
    }

    func cell(_ workload: Workload, _ nanoseconds: Double) -> String {
        switch workload {
        case .tcpSendmsgSmall:
            "\(format(4096 / nanoseconds * 1e9 / 1_048_576, 0)) MiB/s"
        case .tcpStream, .tcpStreamSendmsg, .unixStream:
            "\(format(65536 / nanoseconds * 1e9 / 1_048_576, 0)) MiB/s"
        default:
            "\(format(nanoseconds / 1000, 2)) µs/op"
        }
    }

    func workloadTable(_ title: String, _ workloads: [Workload]) {
        printLine("## \(title)")
        printLine("")
        printLine("Ratio: sandboxed throughput as a fraction of native (1.00x = no cost). Trap floor: the workload under")
        printLine("the supervisor's own filter, every notified call let through (CONTINUE) by a thread that checks nothing")
        printLine("(unsafe as a policy): the most any supervisor with this filter can keep. A goal above it cannot be met")
        printLine("by checking faster, only by trapping less.")
        printLine("")
        let cli = landlockExec ?? locateLandlockExec()
        printLine("| workload | what | native | library (SandboxedCommand) | ratio | landlock-exec | ratio | trap floor | goal | met |")
        printLine("|---|---|---|---|---|---|---|---|---|---|")
        for workload in workloads {
            let variants: [Variant] = [.native, .supervisor] + (cli == nil ? [] : [.landlockExec]) + [.trapFloor]
            let results = interleave(workload, variants)
            let native = results[.native]!
            let supervised = results[.supervisor]!
            let ratio = median(zip(native, supervised).map { $0 / $1 })
            let cliRatio = results[.landlockExec].map { median(zip(native, $0).map { $0 / $1 }) }
            let floor = median(zip(native, results[.trapFloor]!).map { $0 / $1 })
            let goal = Self.goal(workload)
            let met = goal.map { goal in
                ratio >= goal && (cliRatio ?? goal) >= goal ? "yes" : "**MISSED**" + (floor < goal ? " (goal above the trap floor)" : "")
            } ?? "—"
            let digits = goal == nil ? 2 : 3
            printLine(
                "| \(workload.rawValue) | \(workload.summary) | \(cell(workload, median(native))) | "
                    + "\(cell(workload, median(supervised))) | \(format(ratio, digits))x | "
                    + "\(results[.landlockExec].map { cell(workload, median($0)) } ?? "not measured") | "
                    + "\(cliRatio.map { format($0, digits) + "x" } ?? "—") | \(format(floor, digits))x | "
                    + "\(goal.map { "≥ \(format($0, 2))x" } ?? "—") | \(met) |"
            )
        }
        for workload in [Workload.udpSendto, .udpSendConnected] where workloads.contains(workload) {
            // A nested sandbox registered with the supervisor, against the same supervisor alone.
            let results = interleave(workload, [.native, .supervisor, .nested])
            let native = results[.native]!, nested = results[.nested]!
            printLine(
                "| \(workload.rawValue) | nested: the workload in a sandbox nested in the supervised one (its layer "
                    + "registered with the supervisor); the supervised alone: \(format(median(zip(native, results[.supervisor]!).map { $0 / $1 }), 3))x "
                    + "| \(cell(workload, median(native))) | \(cell(workload, median(nested))) | "
                    + "\(format(median(zip(native, nested).map { $0 / $1 }), 3))x | — | — | — | — | — |")
        }
        if workloads.contains(.udpSendConnected) {
            // The floor: what any seccomp filter costs, against the supervisor's filter.
            for workload in [Workload.udpSendConnected, .getppid] {
                let results = interleave(workload, [.native, .allowAllFilter])
                let native = results[.native]!
                let filtered = results[.allowAllFilter]!
                printLine(
                    "| \(workload.rawValue) | reference: under a one-instruction allow-all seccomp filter, no supervisor "
                        + "(the floor of any filter) | \(cell(workload, median(native))) | \(cell(workload, median(filtered))) | "
                        + "\(format(median(zip(native, filtered).map { $0 / $1 }), 3))x | — | — | — | — | — |")
            }
        }
        printLine("")
    }

    // MARK: The 7.2 guest

    func guestTable() {
        guard (kernelABI ?? .v1) >= .v10 else {
            fail(
                "--guest needs a kernel with Landlock ABI 10 (Linux 7.2); this one has \(kernelABI.map { "\($0)" } ?? "none")"
            )
        }
        printLine("## Inside Linux 7.2 (Landlock ABI 10): kernel UDP rights against no sandbox and the supervisor")
        printLine("")
        printLine("Ratios only (TCG emulation: absolute times mean nothing). Each ratio is a throughput fraction.")
        printLine("")
        printLine(
            "| workload | kernel / native | supervisor / native | supervisor / kernel | goal (supervisor / native) | met |"
        )
        printLine("|---|---|---|---|---|---|")
        for workload in Workload.allCases where workload.isUDP {
            let results = interleave(workload, [.native, .kernel, .supervisor])
            func ratio(_ base: Variant, _ other: Variant) -> Double {
                median(zip(results[base]!, results[other]!).map { $0 / $1 })
            }
            let supervisorRatio = ratio(.native, .supervisor)
            let goal = Self.goal(workload)
            printLine(
                "| \(workload.rawValue) | \(format(ratio(.native, .kernel), 2))x | \(format(supervisorRatio, goal == nil ? 2 : 3))x | "
                    + "\(format(ratio(.kernel, .supervisor), 2))x | \(goal.map { "≥ \(format($0, 2))x" } ?? "—") | "
                    + "\(goal.map { supervisorRatio >= $0 ? "yes" : "**MISSED**" } ?? "—") |")
        }
        // Calibration: the floor of any trap of the supervisor's filter under this emulation.
        let results = interleave(.udpSendto, [.native, .trapFloor])
        printLine(
            "| udp-sendto, reference: the supervisor's filter, every trap answered CONTINUE, no checks (the floor of any trap) | — | "
                + "\(format(median(zip(results[.native]!, results[.trapFloor]!).map { $0 / $1 }), 2))x | — | — | — |")
        printLine("")
    }

    // MARK: Memory

    func memoryTable() {
        printLine("## Memory: the supervising process with sleeping sandboxed children")
        printLine("")
        printLine(
            "A fresh `landlock-bench memory` process starts N `/bin/sleep` children with `SandboxedCommand` "
                + "and reads its own /proc/self/status; `kernelOnly` (no supervisor) for comparison.")
        printLine("")
        printLine("| children | udp | VmRSS before | VmRSS with children | added per child | VmHWM | threads |")
        printLine("|---|---|---|---|---|---|---|")
        for (children, variant) in [(1, Variant.supervisor), (100, .supervisor), (1, .kernel), (100, .kernel)] {
            var samples: [[String: Int]] = []
            for _ in 0..<(quick ? 1 : 3) {
                let (status, output) = capture(
                    executable, ["memory", "--children", "\(children)", "--variant", variant.rawValue])
                guard status == 0 else { fail("memory --children \(children) exited with \(status)") }
                var fields: [String: Int] = [:]
                for field in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                    let parts = field.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
                }
                samples.append(fields)
            }
            func value(_ key: String) -> Double { median(samples.compactMap { $0[key].map(Double.init) }) }
            let before = value("baseline_rss_kib")
            let with = value("rss_kib")
            printLine(
                "| \(children) | \(variant == .supervisor ? "supervisor" : "kernelOnly") | \(format(before / 1024, 1)) MiB | "
                    + "\(format(with / 1024, 1)) MiB | \(format((with - before) / Double(children), 0)) KiB | "
                    + "\(format(value("hwm_kib") / 1024, 1)) MiB | \(format(value("threads"), 0)) |")
        }
        if let cli = landlockExec ?? locateLandlockExec(), capture(cli, ["--help"]).output.contains("--udp-supervisor")
        {
            var samples: [Double] = []
            for _ in 0..<(quick ? 1 : 3) {
                if let rss = cliSupervisorRSS(cli) { samples.append(Double(rss)) }
            }
            if samples.isEmpty {
                printLine(
                    "| 1 | `landlock-exec --udp-supervisor always` | — | not measured: no supervising landlock-exec process found | — | — | — |"
                )
            } else {
                printLine(
                    "| 1 | `landlock-exec --udp-supervisor always` (its own process) | — | \(format(median(samples) / 1024, 1)) MiB | — | — | — |"
                )
            }
        }
        printLine("")
    }

    /// VmRSS of a `landlock-exec --udp-supervisor always` process supervising one `sleep`.
    func cliSupervisorRSS(_ cli: String) -> Int? {
        let arguments = [
            "--quiet", "--rox", "/usr", "--ro", "/etc", "--rox", "/bin", "--udp-supervisor", "always", "--",
            "/bin/sleep", "60",
        ]
        let pid = start(.native, path: cli, arguments: arguments, ruleset: Ruleset())
        usleep(500_000)
        var children: [pid_t] = []
        // The child's parent is whichever thread forked it: look at every task.
        if let directory = opendir("/proc/\(pid)/task") {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard let tid = pid_t(name), let text = readTextFile("/proc/\(pid)/task/\(tid)/children") else {
                    continue
                }
                children += text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) }
            }
            closedir(directory)
        }
        let exe = (try? String(readlinkPath: "/proc/\(pid)/exe")) ?? ""
        let rss = exe.hasSuffix("landlock-exec") && !children.isEmpty ? procStatus("\(pid)", "VmRSS") : nil
        for child in children { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        waitFor(pid)
        return rss
    }
}

extension String {
    init(readlinkPath path: String) throws {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { throw Errno32(errno) }
        self = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `landlock-bench memory --children N --variant supervisor|kernel`.
func memoryWorkload(children: Int, variant: Variant) {
    // The first prepare() runs the supervisor availability probe; do it before the baseline.
    _ = SupervisorAvailability.current
    _ = LandlockStatus.current
    let baseline = procStatus("self", "VmRSS") ?? -1
    var pids: [pid_t] = []
    for _ in 0..<children {
        pids.append(
            start(
                variant, path: "/bin/sleep", arguments: ["60"], ruleset: Policies.typical(),
                expectStatus: statusCheck(variant, kernelUDP: false)))
    }
    usleep(300_000)
    let rss = procStatus("self", "VmRSS") ?? -1
    let hwm = procStatus("self", "VmHWM") ?? -1
    let threads = procStatus("self", "Threads") ?? -1
    for pid in pids { kill(pid, SIGKILL) }
    for pid in pids { waitFor(pid) }
    printLine(
        "memory children=\(children) baseline_rss_kib=\(baseline) rss_kib=\(rss) hwm_kib=\(hwm) threads=\(threads)")
}

/// A port that is free on 127.0.0.1 right now.
func freePort(_ type: Int32) -> UInt16 {
    let fd = makeSocket(AF_INET, type)
    defer { close(fd) }
    var address = Loopback.ipv4(port: 0)
    if withSockaddr(&address, { bind(fd, $0, $1) }) != 0 { fail("bind 127.0.0.1:0", errno: errno) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    if ok != 0 { fail("getsockname", errno: errno) }
    return UInt16(bigEndian: address.sin_port)
}
