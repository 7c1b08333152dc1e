// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Enforcement on real programs", .requiresLandlock(.v1))
struct FileSystemTests {
    @Test func readsInsideAllowedTreeSucceed() {
        let scratch = Scratch()
        let file = scratch.file("allowed/data.txt", "hello\n")
        let result = exec(["--quiet", "--system", "--ro", scratch.path + "/allowed", "--", "cat", file])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "hello\n")
    }

    @Test func readsOutsideAllowedTreeFail() {
        let scratch = Scratch()
        scratch.file("allowed/data.txt", "hello\n")
        let secret = scratch.file("secret/key.txt", "secret\n")
        let result = exec(["--quiet", "--system", "--ro", scratch.path + "/allowed", "--", "cat", secret])
        #expect(result.status == 1, "\(result)")
        #expect(result.standardOutput == "")
        #expect(result.standardError == "cat: \(secret): Permission denied\n")
    }

    @Test func writesInsideReadWriteTreeSucceed() {
        let scratch = Scratch()
        let directory = scratch.directory("out")
        let result = exec(["--quiet", "--system", "--rw", directory, "--", "sh", "-c", "echo data > \(directory)/new.txt"])
        #expect(result.status == 0, "\(result)")
        #expect(readFile(directory + "/new.txt") == "data\n")
    }

    @Test func writesInReadOnlyTreeFail() {
        let scratch = Scratch()
        let directory = scratch.directory("ro")
        let existing = scratch.file("ro/existing.txt", "old\n")
        let result = exec([
            "--quiet", "--system", "--ro", directory, "--", "sh", "-c", "echo new > \(directory)/new.txt || echo new >> \(existing)",
        ])
        #expect(result.status != 0, "\(result)")
        #expect(result.standardError.contains("Permission denied"))
        #expect(!scratch.exists("ro/new.txt"))
        #expect(readFile(existing) == "old\n")
    }

    @Test func execIsDeniedWhereNotGranted() {
        let scratch = Scratch()
        let directory = scratch.directory("bin")
        _ = CLIProcess.run("/usr/bin/cp", ["/usr/bin/true", directory + "/my-true"])
        let denied = exec(["--quiet", "--system", "--ro", directory, "--", directory + "/my-true"])
        #expect(denied.status == 126, "\(denied)")
        #expect(
            denied.standardError == """
                landlock-exec: error: Failed to execute "\(directory)/my-true": Permission denied (EACCES)
                Hint: the sandbox may deny executing the binary, its interpreter (#! line or ELF loader) or its shared \
                libraries: allow them with --rox (for example --rox /usr), or use the default policy

                """)
        let allowed = exec(["--quiet", "--system", "--rox", directory, "--", directory + "/my-true"])
        #expect(allowed.status == 0, "\(allowed)")
    }

    @Test func defaultPolicyRunsSystemCommandsButHidesOtherFiles() {
        let scratch = Scratch()
        let secret = scratch.file("secret.txt", "secret\n")
        let listing = exec(["--quiet", "--", "ls", "/usr"])
        #expect(listing.status == 0, "\(listing)")
        #expect(listing.standardOutput.contains("bin\n"))
        let read = exec(["--quiet", "--", "cat", secret])
        #expect(read.status == 1, "\(read)")
        let devNull = exec(["--quiet", "--", "sh", "-c", "echo x > /dev/null"])
        #expect(devNull.status == 0, "\(devNull)")
    }
}

@Suite("Network", .requiresLandlock(.v4))
struct NetworkTests {
    @Test func tcpConnectIsDeniedUnlessAllowed() {
        let listener = Listener()
        let connect = python("socket.create_connection(('127.0.0.1', \(listener.port)), timeout=5)")
        let denied = exec(["--quiet", "--"] + connect)
        #expect(denied.status == 13, "\(denied)")
        let allowed = exec(["--quiet", "--connect-tcp", "\(listener.port)", "--"] + connect)
        #expect(allowed.status == 0, "\(allowed)")
        let range = exec(["--quiet", "--connect-tcp", "\(listener.port - 1)-\(listener.port + 1)", "--"] + connect)
        #expect(range.status == 0, "\(range)")
        let unrestricted = exec(["--quiet", "--unrestricted", "connect", "--"] + connect)
        #expect(unrestricted.status == 0, "\(unrestricted)")
    }

    @Test func tcpBindIsDeniedUnlessAllowed() {
        let port = freePort()
        let bind = python("socket.socket().bind(('127.0.0.1', \(port)))")
        let denied = exec(["--quiet", "--"] + bind)
        #expect(denied.status == 13, "\(denied)")
        let allowed = exec(["--quiet", "--bind-tcp", "\(port)", "--"] + bind)
        #expect(allowed.status == 0, "\(allowed)")
        let otherPort = exec(["--quiet", "--bind-tcp", "\(port == 65535 ? port - 1 : port + 1)", "--"] + bind)
        #expect(otherPort.status == 13, "\(otherPort)")
        let unrestricted = exec(["--quiet", "--unrestricted-net", "--"] + bind)
        #expect(unrestricted.status == 0, "\(unrestricted)")
    }

    @Test func udpRulesAreEnforcedOnEveryKernel() {
        let port = freePort()
        let bind = python("import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(('127.0.0.1', \(port)))")
        let denied = exec(["--quiet", "--"] + bind)
        #expect(denied.status == 13, "\(denied)")
        let allowed = exec(["--quiet", "--bind-udp", "\(port)", "--"] + bind)
        #expect(allowed.status == 0, "\(allowed)")
        let logged = exec(["--quiet", "--log-denials", "--bind-udp", "\(port == 65535 ? port - 1 : port + 1)", "--"] + bind)
        #expect(logged.status == 13, "\(logged)")
        if (LandlockStatus.current.abi ?? .v1) < .v10 {
            // Only the supervisor sees denials; the kernel's go to the audit log.
            // The line is written by the supervisor's log thread: before or after the program's own.
            #expect(logged.standardError.contains("landlock: blockers=net.bind_udp saddr=127.0.0.1 src=\(port) (allowed by --bind-udp \(port))\n"), "\(logged)")
        }
        let unrestricted = exec(["--quiet", "--unrestricted", "udp", "--"] + bind)
        #expect(unrestricted.status == 0, "\(unrestricted)")
    }

    /// Inside a supervised sandbox, a nested landlock-exec (either mode) registers its layer
    /// with the outer supervisor: both layers hold for the UDP calls the supervisor decides and
    /// for the TCP connects it performs; once the nested sandbox ends, the outer layer alone
    /// applies again. Datagrams are counted by receivers outside both sandboxes.
    @Test(arguments: ["run", "sandboxer"])
    func aSandboxNestedInASupervisedOneEnforcesBothLayers(mode: String) {
        let both = UDPReceiver(), outerOnly = UDPReceiver(), listener = Listener()
        let outer = [
            "--quiet", "--rox", "/", "--udp-supervisor", "always", "--bind-udp", "0", "--connect-udp", "\(both.port)",
            "--connect-udp", "\(outerOnly.port)", "--connect-tcp", "\(listener.port)", "--",
        ]
        let inner = mode == "run"
            ? [landlockExec, "--quiet", "--log-denials", "--rox", "/", "--bind-udp", "0", "--connect-udp", "\(both.port)", "--"]
            : ["env", "LL_FS_RO=/", "LL_FS_RW=", "LL_UDP_BIND=0", "LL_UDP_CONNECT_SEND=\(both.port)", "LL_TCP_CONNECT=",
               landlockExec, "sandboxer"]
        let probe = socketProbe(udp: [both.port, outerOnly.port], tcp: listener.port)
        let script = inner.map(shellQuoted).joined(separator: " ") + " " + probe.map(shellQuoted).joined(separator: " ")
            + "; " + probe.map(shellQuoted).joined(separator: " ")
        let result = exec(outer + ["sh", "-c", script])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "ok 13 13\nok ok ok\n", "\(result)")
        #expect(both.count() == 2)
        #expect(outerOnly.count() == 1)
        if mode == "run" {
            // The nested layer's --log-denials: the outer supervisor writes its denials there.
            #expect(result.standardError == """
                landlock: blockers=net.connect_send_udp daddr=127.0.0.1 dest=\(outerOnly.port) (allowed by --connect-udp \(outerOnly.port))

                """, "\(result)")
        }
    }

    /// Orphans inside a nested sandbox reparent to its anchor (a child subreaper), so the
    /// supervisor still finds them below it: a process whose parent exited keeps both layers.
    @Test func orphansOfANestedSandboxKeepItsLayer() {
        let sandboxes = NestedUDPSandboxes()
        let (both, outerOnly, scratch) = (sandboxes.both, sandboxes.outerOnly, sandboxes.scratch)
        let (outer, inner, probe) = (sandboxes.outer, sandboxes.inner, sandboxes.probe)
        // The orphan's parent exits at once; the outer shell waits for the orphan's marker, so
        // that the supervisor (the outer landlock-exec) still runs.
        let done = scratch.path + "/done"
        let script = """
            \(inner) sh -c '(sleep 0.3; \(probe.replacingQuotes); touch \(done)) & exit 0'
            for i in $(seq 200); do [ -e \(done) ] && break; sleep 0.1; done
            """
        let result = exec(outer + ["sh", "-c", script])
        #expect(result.standardOutput == "ok 13\n", "\(result)")
        #expect(both.count() == 1)
        #expect(outerOnly.count() == 0)
    }

    /// A sandbox nested in a nested sandbox: each of the three layers holds, and leaving the
    /// innermost ones restores the enclosing ones exactly.
    @Test func doublyNestedSandboxesEnforceEveryLayer() {
        let all = UDPReceiver(), twoOuter = UDPReceiver(), outerOnly = UDPReceiver()
        func layer(_ receivers: [UDPReceiver]) -> [String] {
            ["--quiet", "--rox", "/", "--bind-udp", "0"] + receivers.flatMap { ["--connect-udp", "\($0.port)"] } + ["--"]
        }
        let probe = socketProbe(udp: [all.port, twoOuter.port, outerOnly.port], tcp: nil).map(shellQuoted)
            .joined(separator: " ")
        let middle = ([landlockExec] + layer([all, twoOuter])).map(shellQuoted).joined(separator: " ")
        let inner = ([landlockExec] + layer([all])).map(shellQuoted).joined(separator: " ")
        let script = "\(middle) sh -c \(shellQuoted("\(inner) \(probe); \(probe)")); \(probe)"
        let result = exec(["--udp-supervisor", "always"] + layer([all, twoOuter, outerOnly]) + ["sh", "-c", script])
        #expect(result.standardOutput == "ok 13 13\nok ok 13\nok ok ok\n", "\(result)")
        #expect(all.count() == 3)
        #expect(twoOuter.count() == 2)
        #expect(outerOnly.count() == 1)
    }

    /// The registration call loosens nothing: RETIRE from a process that is not an anchor
    /// fails with EINVAL, and a registration of a layer that handles nothing only nests one more
    /// layer under the caller's own.
    @Test func registrationCallsCannotLoosenTheSandbox() {
        let denied = UDPReceiver(), allowed = UDPReceiver()
        let code = socketProbeFunctions + """
            import ctypes, struct
            libc = ctypes.CDLL(None, use_errno=True)
            libc.connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
            retire = libc.connect(-1, None, 0x52544952)
            retire_errno = ctypes.get_errno()
            record = ctypes.create_string_buffer(struct.pack("<IiIIQiIIIQ", 2, -1, 0, 0, 0, -1, 0, 0, 0, 0))
            registered = libc.connect(-1, ctypes.addressof(record), 0x4e455354)
            print(retire, retire_errno, registered, udp(\(denied.port)), udp(\(allowed.port)))
            """
        let result = exec([
            "--quiet", "--rox", "/", "--udp-supervisor", "always", "--bind-udp", "0", "--connect-udp", "\(allowed.port)",
            "--", "python3", "-c", code,
        ])
        #expect(result.standardOutput == "-1 22 0 13 ok\n", "\(result)")
        #expect(denied.count() == 0)
        #expect(allowed.count() == 1)
    }

    /// Known difference: a nested layer's abstract-socket scope is checked in a mirror domain
    /// (same rules, another domain), which refuses a member's connection to an abstract socket
    /// another member created; the kernel allows it. Stricter, never wider.
    @Test(.requiresLandlock(.v6)) func abstractSocketsBetweenMembersOfANestedSandbox() {
        let name = "landlock-exec-member-\(getpid())"
        let code = """
            import socket
            server = socket.socket(socket.AF_UNIX); server.bind("\\0\(name)"); server.listen(1)
            try:
                socket.socket(socket.AF_UNIX).connect("\\0\(name)"); print("ok")
            except OSError as e:
                print(e.errno)
            """
        let outer = ["--quiet", "--rox", "/", "--udp-supervisor", "always", "--"]
        let result = exec(outer + [landlockExec, "--quiet", "--rox", "/", "--", "python3", "-c", code])
        #expect(result.status == 0, "\(result)")
        withKnownIssue("the mirror domain is not the nested domain: its abstract-socket scope refuses members' own sockets") {
            #expect(result.standardOutput == "ok\n", "\(result)")
        }
        #expect(["ok\n", "1\n"].contains(result.standardOutput), "\(result)")
    }

    /// The nested sandbox's anchor killed while its program runs: the orphaned program is not
    /// recognizable any more, so the supervisor refuses every socket call of processes it has
    /// not classified before (fail closed), and no datagram leaves to a port only the outer
    /// layer allows.
    @Test func aKilledNestedAnchorFailsClosed() {
        let sandboxes = NestedUDPSandboxes()
        let (both, outerOnly, scratch) = (sandboxes.both, sandboxes.outerOnly, sandboxes.scratch)
        let (outer, inner, probe) = (sandboxes.outer, sandboxes.inner, sandboxes.probe)
        // The member waits for the anchor's death (a marker) before its first socket call, so
        // the supervisor has not classified it; the outer shell waits for the member's marker.
        let killed = scratch.path + "/killed", done = scratch.path + "/done"
        let script = """
            \(inner) sh -c 'while [ ! -e \(killed) ]; do sleep 0.05; done; \(probe.replacingQuotes); touch \(done)' & nested=$!
            anchor= member=
            while [ -z "$anchor" ]; do read anchor rest < /proc/$nested/task/$nested/children; sleep 0.05; done
            while [ -z "$member" ]; do read member rest < /proc/$anchor/task/$anchor/children; sleep 0.05; done
            kill -KILL $anchor
            wait $nested
            echo "nested landlock-exec: $?" >&2
            touch \(killed)
            for i in $(seq 200); do [ -e \(done) ] && break; sleep 0.1; done
            \(probe)
            """
        let result = exec(outer + ["sh", "-c", script])
        #expect(result.standardOutput == "13 13\n13 13\n", "\(result)")
        #expect(both.count() == 0)
        #expect(outerOnly.count() == 0)
        // The nested landlock-exec cannot learn the command's status and says so.
        #expect(result.standardError == """
            landlock-exec: error: Failed to learn how the command ended: the nested sandbox's anchor process \
            ended before the program (it was killed)
            nested landlock-exec: 125

            """, "\(result)")
    }

    @Test(.enabled(if: (LandlockStatus.current.abi ?? .v1) < .v10, "Kernels with ABI 10 enforce the UDP rights without the supervisor"))
    func udpRulesWithoutTheSupervisorAreRefusedInStrictModeAndReportedInBestEffort() {
        let abi = LandlockStatus.current.abi!.rawValue
        let scratch = Scratch()
        let strict = exec(["--udp-supervisor", "never", "--bind-udp", "5353", "--", "touch", scratch.path + "/marker"])
        #expect(strict.status == 125, "\(strict)")
        #expect(
            strict.standardError == """
                landlock-exec: error: Refusing to run: this sandbox cannot enforce net.bind_udp (kernel ABI \(abi) < 10 \
                and the supervisor is disabled)
                Hint: the UDP rights need Linux 7.2 (Landlock ABI 10) or the supervisor; remove the UDP options, \
                update the kernel, run where the supervisor works, or add --best-effort

                """)
        #expect(!scratch.exists("marker"))
        let bestEffort = exec(["--quiet", "--udp-supervisor", "never", "--best-effort", "--connect-udp", "53", "--", "true"])
        #expect(bestEffort.status == 0, "\(bestEffort)")
        #expect(
            bestEffort.standardError
                == "landlock-exec: warning: not enforced: net.connect_send_udp (kernel ABI \(abi) < 10 and the supervisor is disabled)\n"
        )
    }
}

@Suite("Scopes", .requiresLandlock(.v6))
struct ScopeTests {
    @Test func signalsOutsideTheSandboxAreDeniedUnlessUnscoped() {
        let me = getpid()
        let denied = exec(["--quiet", "--", "sh", "-c", "kill -0 \(me)"])
        #expect(denied.status != 0, "\(denied)")
        #expect(denied.standardError.contains("not permitted"))
        let allowed = exec(["--quiet", "--unscoped", "signal", "--", "sh", "-c", "kill -0 \(me)"])
        #expect(allowed.status == 0, "\(allowed)")
    }

    @Test func abstractUnixSocketsOutsideTheSandboxAreDeniedUnlessUnscoped() {
        let name = "landlock-exec-test-\(getpid())"
        let server = AbstractListener(name)
        defer { withExtendedLifetime(server) {} }
        let connect = python("s = socket.socket(socket.AF_UNIX)\ns.connect('\\0\(name)')")
        let denied = exec(["--quiet", "--"] + connect)
        #expect(denied.status == 13, "\(denied)")
        let allowed = exec(["--quiet", "--unscoped", "abstract-unix-socket", "--"] + connect)
        #expect(allowed.status == 0, "\(allowed)")
    }
}

@Suite("Process behaviour", .requiresLandlock(.v1))
struct ProcessTests {
    @Test(arguments: [["--unrestricted", "udp"], ["--udp-supervisor", "always"]])
    func exitStatusAndSignalsPassThrough(mode: [String]) {
        #expect(exec(["--quiet"] + mode + ["--", "sh", "-c", "exit 42"]).status == 42)
        #expect(exec(["--quiet"] + mode + ["--", "sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
    }

    @Test func aSupervisedCommandLeavesNothingBehind() {
        let result = exec(["--quiet", "--udp-supervisor", "always", "--", "sh", "-c", "echo $$"])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput != "\(result.pid)\n", "the command runs in a supervised child")
        #expect(!CLIProcess.processGroupExists(result.pid))
    }

    @Test func theProcessBecomesTheCommandAndLeavesNothingBehind() {
        // Without a supervisor (UDP rules and, before ABI 9, fs.resolve_unix need one),
        // landlock-exec execs the command.
        let result = exec(["--quiet", "--unrestricted", "udp", "--udp-supervisor", "never", "--", "sh", "-c", "echo $$"])
        #expect(result.status == 0)
        #expect(result.standardOutput == "\(result.pid)\n")
        #expect(!CLIProcess.processGroupExists(result.pid))
    }

    @Test func inheritedFileDescriptorsStayOpen() {
        let scratch = Scratch()
        let secret = scratch.file("secret.txt", "handed over\n")
        let result = exec(["--quiet", "--", "sh", "-c", "cat <&3; cat \(secret)"], inheritedFiles: [3: secret])
        #expect(result.standardOutput == "handed over\n", "\(result)")
        #expect(result.standardError == "cat: \(secret): Permission denied\n")
    }

    @Test func environmentIsPassedThroughOrCleared() {
        let kept = exec(["--quiet", "--env", "EXTRA=1", "--", "env"], environment: ["PATH=/usr/bin:/bin", "KEEP=yes"])
        #expect(kept.standardOutput == "PATH=/usr/bin:/bin\nKEEP=yes\nEXTRA=1\n", "\(kept)")
        let cleared = exec(
            ["--quiet", "--clear-env", "--env", "KEEP", "--env", "NEW=2", "--", "/usr/bin/env"],
            environment: ["PATH=/usr/bin:/bin", "KEEP=yes", "DROP=no"])
        #expect(cleared.standardOutput == "KEEP=yes\nNEW=2\n", "\(cleared)")
    }

    @Test func verbosePrintsTheRestrictionStatus() {
        let result = exec(["--quiet", "--verbose", "--unrestricted", "udp", "--", "true"])
        let abi = LandlockStatus.current.abi!
        if abi >= .v7 {
            // From ABI 9 the kernel enforces fs.resolve_unix; before, the supervisor does.
            #expect(
                result.standardError.hasPrefix("landlock-exec: fully enforced at ABI \(abi.rawValue); all threads; no_new_privs"),
                "\(result)")
        } else {
            #expect(result.standardError.hasPrefix("landlock-exec: partially enforced at ABI \(abi.rawValue)"), "\(result)")
        }
    }
}
