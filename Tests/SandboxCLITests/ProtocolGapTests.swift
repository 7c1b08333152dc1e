// SPDX-License-Identifier: Apache-2.0
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Landlock's TCP rights check TCP sockets only: an MPTCP socket (IPPROTO_MPTCP) would bind and
/// connect to denied ports, and SCTP has no right at all. While TCP rights are handled,
/// landlock-exec refuses their creation with a seccomp filter, in both process layouts.
@Suite(
    "MPTCP and SCTP sockets",
    .enabled(if: access("/usr/bin/python3", X_OK) == 0, "Requires /usr/bin/python3 to open MPTCP sockets"))
struct ProtocolGapTests {
    /// Tries MPTCP connect and bind, then TCP connect, to `port` (which the policy denies).
    static let probe = """
        import socket, sys
        port = int(sys.argv[1])
        for what in ("connect", "bind"):
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
                if what == "connect": s.connect(("127.0.0.1", port))
                else: s.bind(("127.0.0.1", 0))
                print("mptcp", what, "ok")
            except OSError as e: print("mptcp", what, e.errno)
        try:
            socket.socket().connect(("127.0.0.1", port)); print("tcp connect ok")
        except OSError as e: print("tcp connect", e.errno)
        """

    /// Supervised (the default: UDP rules on this kernel) and kernel path (no supervisor).
    @Test(arguments: [[], ["--unrestricted", "udp", "--udp-supervisor", "never"]])
    func mptcpIsRefusedWhileTCPRightsAreHandled(extra: [String]) {
        let listener = Listener()
        let result = exec(["--quiet"] + extra + ["--", "/usr/bin/python3", "-c", Self.probe, "\(listener.port)"])
        #expect(result.status == 0, "\(result)")
        #expect(
            result.standardOutput
                == "mptcp connect \(EPROTONOSUPPORT)\nmptcp bind \(EPROTONOSUPPORT)\ntcp connect \(EACCES)\n",
            "\(result)")
    }

    /// The reason for the filter, shown: with --allow-mptcp-sctp, MPTCP reaches the port the
    /// TCP rules deny (the kernel's gap), while TCP is still refused.
    @Test func allowingThemReopensTheGap() {
        let listener = Listener()
        let native = CLIProcess.run("/usr/bin/python3", ["-c", Self.probe, "\(listener.port)"], environment: defaultEnvironment)
        guard native.standardOutput.hasPrefix("mptcp connect ok") else {
            // A kernel without MPTCP has no gap to show.
            #expect(native.standardOutput.hasPrefix("mptcp connect \(EPROTONOSUPPORT)"), "\(native)")
            return
        }
        let result = exec(["--quiet", "--allow-mptcp-sctp", "--", "/usr/bin/python3", "-c", Self.probe, "\(listener.port)"])
        #expect(result.standardOutput == "mptcp connect ok\nmptcp bind ok\ntcp connect \(EACCES)\n", "\(result)")
    }

    /// A policy that handles no TCP right installs no filter: MPTCP opens as natively.
    @Test func noFilterWithoutTCPRights() {
        let listener = Listener()
        let native = CLIProcess.run("/usr/bin/python3", ["-c", Self.probe, "\(listener.port)"], environment: defaultEnvironment)
        let result = exec(
            ["--quiet", "--unrestricted", "tcp", "--", "/usr/bin/python3", "-c", Self.probe, "\(listener.port)"])
        #expect(result.standardOutput == native.standardOutput, "\(result)")
    }
}
