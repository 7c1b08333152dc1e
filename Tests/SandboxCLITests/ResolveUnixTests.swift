// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// fs.resolve_unix (issue 12): connecting and sending to a pathname UNIX socket needs the
/// right beneath the socket the lookup reaches, unless the sandbox created it. Enforced by the
/// kernel from ABI 9, by the supervisor before: the expected results are Linux 7.2's, whatever
/// enforces them here.
@Suite(
    "Pathname UNIX sockets (fs.resolve_unix)", .requiresLandlock(.v1),
    .enabled(if: access("/usr/bin/python3", X_OK) == 0, "Requires /usr/bin/python3 to make the socket calls"))
struct ResolveUnixTests {
    /// For each path argument: a stream connect to it and a datagram sent to it + "d", each
    /// printed as errno (0: done). Run in the main thread, in a thread, in a forked child and
    /// in an exec'd copy, chosen by PROBE_IN.
    static let attempt = """
        import os, socket, sys, threading
        def attempt(stream, dgram):
            out = []
            for kind, target in ((socket.SOCK_STREAM, stream), (socket.SOCK_DGRAM, dgram)):
                s = socket.socket(socket.AF_UNIX, kind)
                try:
                    if kind == socket.SOCK_STREAM: s.connect(target)
                    else: s.sendto(b"x", target)
                    out.append("0")
                except OSError as e: out.append(str(e.errno))
                s.close()
            return "/".join(out)

        """

    static let probe = attempt + """
        def run():
            for path in sys.argv[1:]:
                if path.startswith("fd:"):  # through the magic links of O_PATH descriptors
                    fds = [os.open(p, os.O_PATH) for p in (path[3:], path[3:] + "d")]
                    print(attempt(*["/proc/self/fd/%d" % fd for fd in fds]))
                else:
                    print(attempt(path, path + "d"))
            sys.stdout.flush()
        where = os.environ.get("PROBE_IN", "main")
        if where == "main": run()
        elif where == "thread":
            t = threading.Thread(target=run); t.start(); t.join()
        elif where == "child":
            pid = os.fork()
            if pid == 0: run(); os._exit(0)
            os.waitpid(pid, 0)
        elif where == "exec":
            os.environ["PROBE_IN"] = "main"
            os.execv(sys.executable, [sys.executable, "-c", os.environ["PROBE_CODE"]] + sys.argv[1:])
        """

    /// A stream socket listening at `path` and a datagram socket bound at `path` + "d",
    /// created by the test (outside any sandbox).
    final class Server {
        var fds: [Int32] = []
        init(_ path: String) {
            for (type, name) in [(Int32(SOCK_STREAM.rawValue), path), (Int32(SOCK_DGRAM.rawValue), path + "d")] {
                let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                    for (index, byte) in name.utf8.enumerated() { buffer[index] = byte }
                }
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                precondition(bound == 0, "bind \(name): \(errno)")
                if type == Int32(SOCK_STREAM.rawValue) { precondition(listen(fd, 64) == 0) }
                fds.append(fd)
            }
        }
        deinit { for fd in fds { close(fd) } }
    }

    /// Linux 7.2's answers under LL_FS_RO=/usr:/etc:<ro> LL_FS_RW=<rw> (or `run --ro/--rw`),
    /// in every spelling of the path and from a thread, a child and after exec.
    @Test(arguments: ["sandboxer", "run"], ["main", "thread", "child", "exec"])
    func readOnlyDeniesWritableAllows(mode: String, where place: String) throws {
        let scratch = Scratch()
        let ro = scratch.directory("ro")
        let rw = scratch.directory("rw")
        let servers = [Server(ro + "/s"), Server(rw + "/s")]
        defer { withExtendedLifetime(servers) {} }
        #expect(symlink(ro + "/s", rw + "/to-ro") == 0 && symlink(ro + "/sd", rw + "/to-rod") == 0)
        #expect(symlink(rw + "/s", ro + "/to-rw") == 0 && symlink(rw + "/sd", ro + "/to-rwd") == 0)
        scratch.file("rw/plain", "")
        scratch.file("rw/plaind", "")
        let paths = [
            ro + "/s", rw + "/s", rw + "/to-ro", ro + "/to-rw", rw + "/../ro/s", ro + "/../rw/s",
            "fd:" + ro + "/s", "fd:" + rw + "/s", rw + "/missing", rw + "/plain",
        ]
        let expected = [
            "13/13", "0/0", "13/13", "0/0", "13/13", "0/0",
            "13/13", "0/0", "2/2", "111/111",
        ]
        let command = ["/usr/bin/python3", "-c", Self.probe] + paths
        let environment = ["PATH=/usr/bin:/bin", "PROBE_IN=\(place)", "PROBE_CODE=\(Self.probe)"]
        let result = mode == "sandboxer"
            ? exec(["sandboxer"] + command, environment: environment + ["LL_FS_RO=/usr:/etc:\(ro)", "LL_FS_RW=\(rw)"])
            : exec(["--quiet", "--rox", "/usr", "--ro", "/etc", "--ro", ro, "--rw", rw, "--"] + command, environment: environment)
        #expect(result.status == 0, "\(result)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines == expected, "\(zip(paths, lines).map { "\($0.0) \($0.1)" })\n\(result)")
        #expect(!result.standardError.contains("not enforced: fs.resolve_unix"), "\(result)")
    }

    /// Attack: a thread flips a symbolic link between the denied and the allowed socket while
    /// another connects and sends through it. The check is made on the socket the lookup
    /// reached and the call goes to that very socket: nothing ever reaches the denied one.
    @Test func aRacingSymlinkSwapNeverReachesTheDeniedSocket() throws {
        let scratch = Scratch()
        let ro = scratch.directory("ro")
        let rw = scratch.directory("rw")
        let denied = Server(ro + "/s")
        let allowed = Server(rw + "/s")
        defer { withExtendedLifetime(allowed) {} }
        let program = """
            import os, socket, sys, threading
            ro, rw = sys.argv[1], sys.argv[2]
            stop = False
            def flip():
                i = 0
                while not stop:
                    target = (ro if i % 2 else rw) + "/s"
                    for suffix in ("", "d"):
                        tmp = rw + "/tmp" + suffix
                        try: os.unlink(tmp)
                        except FileNotFoundError: pass
                        os.symlink(target + suffix, tmp); os.rename(tmp, rw + "/flip" + suffix)
                    i += 1
            t = threading.Thread(target=flip); t.start()
            done = {"stream": 0, "dgram": 0}
            for _ in range(400):
                # Non-blocking: nobody accepts or reads, the queues fill up (EAGAIN then).
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.setblocking(False)
                try: s.connect(rw + "/flip"); done["stream"] += 1
                except OSError: pass
                s.close()
                d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.setblocking(False)
                try: d.sendto(b"x", rw + "/flipd"); done["dgram"] += 1
                except OSError: pass
                d.close()
            stop = True; t.join()
            print(done["stream"] > 0, done["dgram"] > 0)
            """
        let result = exec(
            ["sandboxer", "/usr/bin/python3", "-c", program, ro, rw],
            environment: ["PATH=/usr/bin:/bin", "LL_FS_RO=/usr:/etc:\(ro)", "LL_FS_RW=\(rw)"])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "True True\n", "some calls reach the allowed socket\n\(result)")
        // Nothing is queued on the denied sockets.
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(recv(denied.fds[1], &buffer, 16, Int32(MSG_DONTWAIT)) == -1 && errno == EAGAIN, "a datagram reached the denied socket")
        let flags = fcntl(denied.fds[0], F_GETFL)
        _ = fcntl(denied.fds[0], F_SETFL, flags | O_NONBLOCK)
        #expect(accept(denied.fds[0], nil, nil) == -1 && errno == EAGAIN, "a connection reached the denied socket")
    }

    /// Two nested sandboxes: the inner layer's rules apply on top of the outer one's (the
    /// inner landlock-exec registers its layer with the outer supervisor before ABI 9).
    @Test(arguments: [("outer", "0/0\n0/0\n"), ("outer/inner", "13/13\n0/0\n")])
    func nestedSandboxesApplyEveryLayer(innerWritable: String, expected: String) {
        let scratch = Scratch()
        let outer = scratch.directory("outer")
        let inner = scratch.directory("outer/inner")
        let servers = [Server(outer + "/s"), Server(inner + "/s")]
        defer { withExtendedLifetime(servers) {} }
        // The sandboxer variables are not passed on: the inner layer gets its own.
        let result = exec(
            ["sandboxer", "/usr/bin/env", "LL_FS_RO=/", "LL_FS_RW=\(scratch.path)/\(innerWritable)", landlockExec, "sandboxer",
             "/usr/bin/python3", "-c", Self.probe, outer + "/s", inner + "/s"],
            environment: ["PATH=/usr/bin:/bin", "PROBE_IN=main", "LL_FS_RO=/", "LL_FS_RW=\(outer)"])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == expected, "\(result)")
    }

    /// Attack: the program registers a fake nested layer whose fs.resolve_unix rule is "/"
    /// (any process may call the registration). Its own layer allows everything, but the
    /// sandbox's layer still applies: the socket stays out of reach.
    @Test func aFakeNestedLayerCannotGrantTheRight() {
        let scratch = Scratch()
        let denied = scratch.directory("denied")
        let server = Server(denied + "/s")
        defer { withExtendedLifetime(server) {} }
        let program = Self.attempt + """
            import ctypes, struct
            libc = ctypes.CDLL(None, use_errno=True)
            libc.connect.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
            root = os.open("/", os.O_PATH)
            fds = ctypes.create_string_buffer(struct.pack("<i", root))
            record = ctypes.create_string_buffer(struct.pack(
                "<IiIIQiIIIQ", 2, -1, 0, 0, 0, -1, 1, 1, 0, ctypes.addressof(fds)))
            registered = libc.connect(-1, ctypes.addressof(record), 0x4e455354)
            pid = os.fork()  # a member of the fake layer
            if pid == 0:
                print(registered, attempt(sys.argv[1], sys.argv[1] + "d")); sys.stdout.flush(); os._exit(0)
            os.waitpid(pid, 0)
            """
        let result = exec(
            ["sandboxer", "/usr/bin/python3", "-c", program, denied + "/s"],
            environment: ["PATH=/usr/bin:/bin", "LL_FS_RO=/", "LL_FS_RW=\(scratch.path)/other"])
        #expect(result.standardOutput == "0 13/13\n", "\(result)")
    }

    /// Attack: bind through a symbolic link that another thread keeps exchanging with one to
    /// the victim's directory, so that a second lookup of the bound path after the bind would
    /// name the victim's socket, and the supervisor would record it as one the sandbox bound.
    /// The bound file is established without a second lookup: the victim stays out of reach.
    @Test(.enabled(if: attackHelper != nil, "Requires gcc to build the attack helper"))
    func aBindRacingASymlinkSwapDoesNotMakeAForeignSocketTheSandboxs() throws {
        let scratch = Scratch()
        let victimDirectory = scratch.directory("victim")
        let victim = Server(victimDirectory + "/s")
        let writable = scratch.directory("rw")
        let result = exec(
            ["sandboxer", attackHelper!, "bindswap", writable, victimDirectory + "/sd", "3000"],
            environment: ["PATH=/usr/bin:/bin", "LL_FS_RO=/", "LL_FS_RW=\(writable)"])
        #expect(result.status == 0, "\(result)")
        let values = fields(result.standardOutput)
        #expect(Int(values["binds"] ?? "0") ?? 0 > 100, "the race ran\n\(result)")
        #expect(values["reached"] == "\(EACCES)", "\(result)")
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(recv(victim.fds[1], &buffer, 16, Int32(MSG_DONTWAIT)) == -1, "a datagram reached the victim")
    }

    /// Relative paths after chdir are the program's, not the supervisor's.
    @Test func relativePathsAfterChdir() {
        let scratch = Scratch()
        let ro = scratch.directory("ro")
        let rw = scratch.directory("rw")
        let servers = [Server(ro + "/s"), Server(rw + "/s")]
        defer { withExtendedLifetime(servers) {} }
        let result = exec(
            ["sandboxer", "/bin/sh", "-c", "cd \(shellQuoted(rw)) && exec /usr/bin/python3 -c \"$0\" s ../ro/s ./s", Self.probe],
            environment: ["PATH=/usr/bin:/bin", "LL_FS_RO=/usr:/etc:/bin:\(ro)", "LL_FS_RW=\(rw)"])
        #expect(result.standardOutput == "0/0\n13/13\n0/0\n", "\(result)")
    }

    /// The same-domain exception: a socket the sandbox bound is reachable without the right, in
    /// a directory where only make_sock is granted; one bound outside in the same directory is
    /// not.
    @Test func socketsOfTheSandboxAreReachable() {
        let scratch = Scratch()
        let own = scratch.directory("own")
        let outside = Server(own + "/outside")
        defer { withExtendedLifetime(outside) {} }
        let config = scratch.file(
            "policy.toml",
            """
            [[ruleset]]
            handled_access_fs = ["execute", "read_file", "read_dir", "make_sock", "remove_file", "resolve_unix"]

            [[path_beneath]]
            allowed_access = ["execute", "read_file", "read_dir"]
            parent = ["/usr", "/etc"]

            [[path_beneath]]
            allowed_access = ["make_sock", "remove_file"]
            parent = ["\(own)"]
            """)
        let program = Self.attempt + """
            own = sys.argv[1]
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); server.bind(own + "/inside"); server.listen(4)
            dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dgram.bind(own + "/insided")
            print(attempt(own + "/inside", own + "/insided")); sys.stdout.flush()
            pid = os.fork()
            if pid == 0: print(attempt(own + "/inside", own + "/insided")); sys.stdout.flush(); os._exit(0)
            os.waitpid(pid, 0)
            print(attempt(own + "/outside", own + "/outsided"))
            """
        let result = exec(["--quiet", "--config", config, "--", "/usr/bin/python3", "-c", program, own])
        #expect(result.standardOutput == "0/0\n0/0\n13/13\n", "\(result)")
    }
}
