// SPDX-License-Identifier: Apache-2.0
import LandlockTestSupport
import Testing

@Suite("status, help and man page")
struct StatusAndHelpTests {
    /// Golden text for a Linux 6.15+ kernel with Landlock ABI 7 (the project's machines). The
    /// errata line depends on the kernel build and is checked for its shape only.
    static let goldenABI7 = """
        Landlock: ABI 7
        Errata: ERRATA

        Filesystem rights:
          fs.execute                        enforced by the kernel (ABI 1)
          fs.write_file                     enforced by the kernel (ABI 1)
          fs.read_file                      enforced by the kernel (ABI 1)
          fs.read_dir                       enforced by the kernel (ABI 1)
          fs.remove_dir                     enforced by the kernel (ABI 1)
          fs.remove_file                    enforced by the kernel (ABI 1)
          fs.make_char                      enforced by the kernel (ABI 1)
          fs.make_dir                       enforced by the kernel (ABI 1)
          fs.make_reg                       enforced by the kernel (ABI 1)
          fs.make_sock                      enforced by the kernel (ABI 1)
          fs.make_fifo                      enforced by the kernel (ABI 1)
          fs.make_block                     enforced by the kernel (ABI 1)
          fs.make_sym                       enforced by the kernel (ABI 1)
          fs.refer                          enforced by the kernel (ABI 2)
          fs.truncate                       enforced by the kernel (ABI 3)
          fs.ioctl_dev                      enforced by the kernel (ABI 5)
          fs.resolve_unix                   enforced by the supervisor (seccomp user notification)

        Network rights:
          net.bind_tcp                      enforced by the kernel (ABI 4)
          net.connect_tcp                   enforced by the kernel (ABI 4)
          net.bind_udp                      enforced by the supervisor (seccomp user notification)
          net.connect_send_udp              enforced by the supervisor (seccomp user notification)

        Scopes:
          scope.abstract_unix_socket        enforced by the kernel (ABI 6)
          scope.signal                      enforced by the kernel (ABI 6)

        Restrict-self flags:
          restrict_self.log_same_exec_off   enforced by the kernel (ABI 7)
          restrict_self.log_new_exec_on     enforced by the kernel (ABI 7)
          restrict_self.log_subdomains_off  enforced by the kernel (ABI 7)
          restrict_self.tsync               not enforced: kernel ABI 7 < 8 (landlock-exec does not need it: execve ends its other threads)
          restrict_self.no_new_privs        enforced by the kernel: set with prctl(PR_SET_NO_NEW_PRIVS); the flag needs ABI 11

        Beyond Landlock:
          raw_and_packet_sockets            not restricted by Landlock: CAP_NET_RAW and CAP_NET_ADMIN are dropped from the command when a network right is handled (--keep-network-capabilities keeps them)
          mptcp_and_sctp_sockets            not checked by Landlock's TCP rights: refused (EPROTONOSUPPORT) by a seccomp filter while TCP rights are handled (--allow-mptcp-sctp lets them open)
          supervisor_reach                  the supervised command cannot change the supervisor's resource limits or scheduling (prlimit, setpriority, ioprio_set, sched_set* on another process: EPERM)

        """

    @Test(.enabled(if: TestKernel.abi == 7, "The golden status text is for Landlock ABI 7"))
    func statusGoldenText() {
        let result = exec(["status"])
        #expect(result.status == 0)
        var lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count > 2)
        let errata = lines[1]
        #expect(errata.hasPrefix("Errata: fixed 1 tcp_socket_identification") || errata == "Errata: none fixed", "\(errata)")
        lines[1] = "Errata: ERRATA"
        #expect(lines.joined(separator: "\n") == Self.goldenABI7)
    }

    /// Inside a supervised sandbox, `status` says that a new sandbox's UDP rules are enforced by
    /// the enclosing supervisor (the layer registers with it) and keeps the kernel's rights.
    @Test(.enabled(if: TestKernel.abi == 7, "The golden status text is for Landlock ABI 7"))
    func statusInsideASupervisedSandbox() {
        let result = exec(["--quiet", "--rox", "/", "--ro", "/proc", "--udp-supervisor", "always", "--", landlockExec, "status"])
        #expect(result.status == 0, "\(result)")
        let enclosing = "enforced by the supervisor of the enclosing sandbox (a new sandbox registers its layer with it)"
        #expect(result.standardOutput.contains("  net.bind_udp                      \(enclosing)\n"), "\(result)")
        #expect(result.standardOutput.contains("  net.connect_send_udp              \(enclosing)\n"), "\(result)")
        #expect(result.standardOutput.contains("  net.connect_tcp                   enforced by the kernel (ABI 4)\n"), "\(result)")
    }

    @Test(.enabled(if: TestKernel.abi == 7, "The JSON status is checked for Landlock ABI 7"))
    func statusJSON() {
        let result = exec(["status", "--json"])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("{\n  \"landlock\": {\"status\": \"available\", \"abi\": 7, \"kernelABI\": 7},\n  \"errata\": ["))
        #expect(result.standardOutput.contains(
            "{\"name\": \"net.bind_udp\", \"kernelName\": \"LANDLOCK_ACCESS_NET_BIND_UDP\", \"introduced\": 10, \"enforcedBy\": \"supervisor\"}"))
        #expect(result.standardOutput.contains(
            "{\"name\": \"fs.execute\", \"kernelName\": \"LANDLOCK_ACCESS_FS_EXECUTE\", \"introduced\": 1, \"enforcedBy\": \"kernel\"}"))
        #expect(result.standardOutput.hasSuffix("\n  ]\n}\n"))
    }

    @Test func helpStandsAloneAndListsEveryOption() {
        let help = exec(["--help"])
        #expect(help.status == 0)
        for option in Self.runOptions {
            #expect(help.standardOutput.contains(option), "--help lacks \(option)")
        }
        #expect(help.standardOutput.contains("USAGE: landlock-exec [run] [<options>] [<command> ...]"))
        #expect(help.standardOutput.contains("sandboxer"))
        #expect(help.standardOutput.contains("125"))
    }

    static let runOptions = [
        "--ro", "--rox", "--rw", "--rwx", "--system", "--ignore-missing", "--bind-tcp", "--connect-tcp", "--bind-udp",
        "--connect-udp", "--allow-dns", "--unrestricted-net", "--unrestricted", "--unscoped", "--log-same-exec-off",
        "--log-new-exec-on", "--log-subdomains-off", "--clear-env", "--env", "--config", "--best-effort", "--verbose",
        "--quiet", "--udp-supervisor", "--log-denials",
    ]

    /// The man page documents every option of `--help` and every LL_* variable.
    @Test func manPageIsInSyncWithHelp() throws {
        let page = try #require(readFile(repositoryRoot + "/Documentation/landlock-exec.1"))
        let help = exec(["--help"]).standardOutput
        var documented: [String] = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }) where word.hasPrefix("--") && word.count > 2 {
            let option = String(word.prefix { $0 == "-" || $0.isLetter })
            if option.count > 2 && !option.hasSuffix("-") && !documented.contains(option) { documented.append(option) }
        }
        #expect(documented.count >= Self.runOptions.count)
        for option in documented {
            // roff escapes the hyphens: \-\-ro
            let escaped = option.replacing("-", with: "\\-")
            #expect(page.contains(escaped + "\n") || page.contains(escaped + " ") || page.contains(escaped + "\\"), "the man page lacks \(option)")
        }
        let sandboxerHelp = exec(["sandboxer", "--help"]).standardOutput
        for variable in ["LL_FS_RO", "LL_FS_RW", "LL_TCP_BIND", "LL_TCP_CONNECT", "LL_UDP_BIND", "LL_UDP_CONNECT_SEND", "LL_SCOPED", "LL_FORCE_LOG"] {
            #expect(sandboxerHelp.contains(variable))
            #expect(page.contains(variable.replacing("_", with: "_")), "the man page lacks \(variable)")
        }
        for status in ["64", "125", "126", "127"] {
            #expect(page.contains(".B \(status)\n") || page.contains(".BR \(status)"), "the man page lacks exit status \(status)")
        }
    }
}
