// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import SandboxSupport
import Testing

@testable import LandlockSupervisor

#if canImport(Glibc)
import Glibc
#endif

// MARK: MessageFuzzTests
//
// Every value the supervisor reads from the program's memory is untrusted (issue 10, and
// "No crash and no freeze" and "Same results as the kernel" in the supervisor's threat model):
// random and boundary msghdr, mmsghdr, iovec, cmsg and sockaddr values (zero, boundary, huge,
// negative when read as signed, unmapped, straddling a guard page, garbage in the upper half of
// int registers) sent with sendmsg, sendmmsg, sendto, connect and bind on UDP, UDP6, UNIX
// (dgram, stream, seqpacket) and TCP sockets. The same program runs natively and under the
// supervisor; every case must give the same return value, errno, msg_len write-backs and bytes
// received, and the supervised program must end with `.exited(0)`: the supervisor survived and
// reported its status.
//
// Inputs whose results legitimately differ (README, "What each mode guarantees") are left out
// by the generator, each with a comment there: MSG_ZEROCOPY; destinations other than the port
// the policy allows (the ABI 10 rules refuse them, this kernel does not); family mismatches and
// AF_UNSPEC sends on IPv6 UDP sockets, and short inet addresses combined with MSG_OOB or more
// than 65535 bytes (Landlock's hook answers EINVAL before the UDP code); SO_PEERCRED and
// received credentials are never looked at.
//
// Each seed runs in a fresh process (an exit test), so that a supervisor that traps fails this
// test instead of killing the test runner; the fuzzer and the exit test both stop themselves
// with `alarm` if anything freezes. `MESSAGE_FUZZ_CASES` sets the number of cases per seed
// (default 1000) and `MESSAGE_FUZZ_SEEDS` adds seeds (comma-separated) for longer runs by hand.
// To see a case: `msghdr_fuzz describe SEED CASE 1` (the path is in the failure message).

/// The message fuzzer (Helpers/msghdr_fuzz.c.txt), built once with gcc as a static binary.
let messageFuzzer: String? = buildCHelper(source: String(#filePath.dropLast("MessageFuzzTests.swift".count)) + "Helpers/msghdr_fuzz.c.txt", named: "msghdr_fuzz")

@Suite(.serialized, .enabled(if: userNotification, "Requires seccomp user notification (SECCOMP_GET_NOTIF_SIZES failed)"))
struct MessageFuzzTests {
    static let casesPerSeed = environmentInteger("MESSAGE_FUZZ_CASES") ?? 1000

    static let seeds: [String] = {
        var seeds = ["fixed", "1", "2", "3"]
        if let extra = getenv("MESSAGE_FUZZ_SEEDS") {
            seeds += String(cString: extra).split(separator: ",").map(String.init)
        }
        return seeds
    }()

    @Test(arguments: seeds)
    func sameResultsAsTheKernel(seed: String) async throws {
        let fuzzer = try #require(messageFuzzer, "gcc could not build Helpers/msghdr_fuzz.c.txt")
        // "fixed": hand-written cases (Helpers/msghdr_fuzz.c.txt, `fixed()`): cmsg_len 2^63 on UDP,
        // UNIX dgram, UNIX stream and TCP sockets (a Swift integer conversion trap in the
        // supervisor), 2^63 - 1 in a second cmsg, 2^64 - 1 through sendmmsg, then one small case for
        // each kind of difference the generated cases found, and a few that must keep working.
        // The others: generated cases.
        let count = seed == "fixed" ? 100 : Self.casesPerSeed  // the fixed list is shorter: all of it
        let directory = String(fuzzer.dropLast("/msghdr_fuzz".count)) + "/seed-\(seed)"
        mkdir(directory, 0o755)
        let native = directory + "/native", descriptions = directory + "/descriptions"
        let supervised = directory + "/supervised", statusFile = directory + "/status"
        for path in [native, descriptions, supervised, statusFile] { unlink(path) }

        // The kernel's results, outside any sandbox.
        let start = MonotonicClock.milliseconds
        let nativePort = Int(Receiver().port)  // a free port (the receiver closes it)
        let nativeStatus = system("'\(fuzzer)' run \(seed) 0 \(count) \(nativePort) '\(native)' '\(descriptions)'")
        try #require(nativeStatus == 0, "the native run failed (\(nativeStatus))")
        let nativeMilliseconds = MonotonicClock.milliseconds - start

        // The same cases under the supervisor, in a process of their own.
        let port = Int(Receiver().port)
        let arguments = ["run", seed, "0", "\(count)", "\(port)", supervised]
        await #expect(processExitsWith: .success, "the supervised run (seed \(seed)) did not end with .exited(0)") {
            [fuzzer = fuzzer as String, arguments = arguments as [String], port = port as Int,
             statusFile = statusFile as String] in
            alarm(60)
            var command = SandboxedCommand(
                executable: fuzzer, arguments: arguments, ruleset: try! udpRuleset(connect: [port], bind: [0, port]),
                udp: .supervisor)
            command.compatibility = .bestEffort
            // The native run has every capability: compare like with like (the supervised program
            // would otherwise lack CAP_NET_RAW and CAP_NET_ADMIN, which SO_PRIORITY above 6 needs).
            command.keepsNetworkCapabilities = true
            let prepared = try! command.prepare()
            guard prepared.status.usesSupervisor else { exit(3) }
            let status = try! prepared.spawn().wait()
            let text = "\(status)\n"
            let fd = open(statusFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
            exit(status == .exited(0) ? 0 : 1)
        }
        // If the supervisor died, the program goes on without it (its trapped calls fail with
        // ENOSYS): let it finish, so that it does not hold the port or write later.
        var supervisedText = readFile(supervised) ?? ""
        for _ in 0..<100 where !supervisedText.hasSuffix("end\n") {
            usleep(50_000)
            supervisedText = readFile(supervised) ?? ""
        }
        let supervisedMilliseconds = MonotonicClock.milliseconds - start - nativeMilliseconds
        let status = readFile(statusFile).map { String($0.dropLast()) } ?? "none: the supervising process died"
        #expect(status == "\(TerminationStatus.exited(0))", "supervised run, seed \(seed): status \(status)")

        let nativeLines = caseLines(readFile(native) ?? "")
        let supervisedLines = caseLines(supervisedText)
        let describedLines = caseLines(readFile(descriptions) ?? "")
        let cases = nativeLines.keys.sorted()
        #expect(seed == "fixed" || cases.count == count, "the native run wrote \(cases.count) cases")
        var differing: [Int] = []
        for index in cases where supervisedLines[index] != nativeLines[index] { differing.append(index) }
        print("msghdr fuzz seed \(seed): \(cases.count) cases, \(differing.count) differ; native \(nativeMilliseconds) ms, "
              + "supervised \(supervisedMilliseconds) ms; status \(status)")
        guard let first = differing.first else { return }
        var report = "seed \(seed): \(differing.count) of \(cases.count) cases differ from the kernel's results.\n"
        report += "First: case \(first): \(describedLines[first] ?? "")\n"
        report += "  native:     \(nativeLines[first] ?? "-")\n"
        report += "  supervised: \(supervisedLines[first] ?? "missing")\n"
        for index in differing.dropFirst().prefix(12) {
            report += "case \(index): native \(nativeLines[index] ?? "-") | supervised \(supervisedLines[index] ?? "missing")\n"
        }
        if differing.count > 13 { report += "... (\(differing.count - 13) more; files in \(directory))\n" }
        report += "Describe one: \(fuzzer) describe \(seed) CASE 1"
        Issue.record("\(report)")
    }
}

/// "case N: rest" lines by N.
private func caseLines(_ text: String) -> [Int: String] {
    var lines: [Int: String] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix("case ") {
        guard let colon = line.firstIndex(of: ":"), let index = Int(line[line.index(line.startIndex, offsetBy: 5)..<colon])
        else { continue }
        lines[index] = String(line[line.index(after: colon)...].drop { $0 == " " })
    }
    return lines
}

private func environmentInteger(_ name: String) -> Int? {
    getenv(name).flatMap { Int(String(cString: $0)) }
}
