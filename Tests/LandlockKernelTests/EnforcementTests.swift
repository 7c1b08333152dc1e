// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Every test that enforces a ruleset does so in an exit test: a child process, because
// restriction is irreversible and the test runner is shared.

@Suite("The running kernel")
struct KernelTests {
    @Test("The kernel is the one CI expects")
    func expectedKernel() throws {
        guard let expected = TestKernel.expectedABI else {
            try Test.cancel("LANDLOCK_TEST_ABI is not set: nothing to compare the running kernel (ABI \(TestKernel.abi)) with; CI sets it")
        }
        #expect(TestKernel.abi == expected, "The running kernel provides Landlock ABI \(TestKernel.abi), but LANDLOCK_TEST_ABI says \(expected)")
    }

    @Test("The status query agrees with the raw syscall")
    func status() {
        let status = LandlockStatus.current
        if TestKernel.abi > 0 {
            #expect(status.abi != nil)
            #expect(Errata.current != nil)
        } else {
            #expect(status.abi == nil)
        }
    }
}

@Suite("Filesystem enforcement", .requiresLandlock(.v1))
struct FileSystemEnforcementTests {
    @Test("Reads are allowed beneath a read rule and denied elsewhere")
    func read() async {
        await #expect(processExitsWith: .success) {
            let allowed = makeTree(), denied = makeTree()
            _ = try filesystemRuleset([PathBeneath(allowed, FileSystemAccess.read(in: .v1))]).create().restrictSelf()
            verify(openFile(allowed + "/file", O_RDONLY), is: 0, "read allowed file")
            verify(openFile(allowed + "/sub/file", O_RDONLY), is: 0, "read allowed file beneath")
            verify(listDirectory(allowed), is: 0, "list allowed directory")
            verify(openFile(denied + "/file", O_RDONLY), is: EACCES, "read denied file")
            verify(listDirectory(denied), is: EACCES, "list denied directory")
            verify(openFile(allowed + "/file", O_WRONLY), is: EACCES, "write a read-only file")
        }
    }

    @Test("Writes and creation follow the rules")
    func write() async {
        await #expect(processExitsWith: .success) {
            let writable = makeTree(), readable = makeTree()
            _ = try filesystemRuleset([
                PathBeneath(writable, FileSystemAccess.all(in: runningABI(atMost: .v3))),
                PathBeneath(readable, FileSystemAccess.read(in: .v1)),
            ]).create().restrictSelf()
            verify(openFile(writable + "/file", O_WRONLY), is: 0, "write allowed")
            verify(openFile(writable + "/new", O_WRONLY | O_CREAT), is: 0, "create allowed")
            verify(result(mkdir(writable + "/newdir", 0o755)), is: 0, "mkdir allowed")
            verify(result(unlink(writable + "/sub/file")), is: 0, "unlink allowed")
            verify(openFile(readable + "/file", O_WRONLY), is: EACCES, "write denied")
            verify(openFile(readable + "/new", O_WRONLY | O_CREAT), is: EACCES, "create denied")
            verify(result(mkdir(readable + "/newdir", 0o755)), is: EACCES, "mkdir denied")
            verify(result(unlink(readable + "/file")), is: EACCES, "unlink denied")
        }
    }

    @Test("Truncation needs the truncate right (ABI 3)", .requiresLandlock(.v3))
    func truncation() async {
        await #expect(processExitsWith: .success) {
            let tree = makeTree()
            _ = try filesystemRuleset([
                PathBeneath(tree + "/file", [.readFile, .writeFile, .truncate]),
                PathBeneath(tree + "/sub", [.readFile, .writeFile]),
            ]).create().restrictSelf()
            verify(truncateFile(tree + "/file"), is: 0, "truncate allowed")
            verify(openFile(tree + "/file", O_WRONLY | O_TRUNC), is: 0, "O_TRUNC allowed")
            verify(openFile(tree + "/sub/file", O_WRONLY), is: 0, "write without truncation")
            verify(truncateFile(tree + "/sub/file"), is: EACCES, "truncate denied")
            verify(openFile(tree + "/sub/file", O_WRONLY | O_TRUNC), is: EACCES, "O_TRUNC denied")
        }
    }

    @Test("Execution needs the execute right")
    func execution() async {
        await #expect(processExitsWith: .success) {
            // /bin/true, its loader and libraries live under /usr (and /lib* on some systems).
            var readable = [PathBeneath("/usr", [.readFile, .readDir])]
            for path in ["/lib", "/lib64", "/etc"] {
                readable.append(PathBeneath(path, [.readFile, .readDir], ignoreIfMissing: true))
            }
            let ruleset = try filesystemRuleset(readable)
            _ = try ruleset.create().restrictSelf()
            verify(execute("/usr/bin/true"), is: EACCES, "exec without the execute right")
        }
        await #expect(processExitsWith: .success) {
            var rules = [PathBeneath("/usr", [.readFile, .readDir, .execute])]
            for path in ["/lib", "/lib64", "/etc"] {
                rules.append(PathBeneath(path, [.readFile, .readDir, .execute], ignoreIfMissing: true))
            }
            _ = try filesystemRuleset(rules).create().restrictSelf()
            verify(execute("/usr/bin/true"), is: 0, "exec with the execute right")
        }
    }

    @Test("A rule on a file drops directory-only rights; a hard requirement rejects them")
    func fileRule() async {
        await #expect(processExitsWith: .success) {
            let tree = makeTree()
            let status = try Ruleset()
                .handling(FileSystemAccess.all(in: .v1))
                .adding(PathBeneath(tree + "/file", FileSystemAccess.all(in: .v1)))
                .create().restrictSelf()
            verify(status.ruleset == .fullyEnforced, "status \(status)")
            verify(openFile(tree + "/file", O_RDONLY), is: 0, "read the file")
            verify(openFile(tree + "/sub/file", O_RDONLY), is: EACCES, "read another file")
        }
        let tree = makeTree()
        #expect {
            _ = try Ruleset()
                .handling(FileSystemAccess.all(in: .v1))
                .adding(PathBeneath(tree + "/file", [.readFile, .readDir]), compatibility: .hardRequirement)
                .create()
        } throws: { error in
            (error as? LandlockError)?.code == .directoryOnlyAccessOnFile
        }
    }

    @Test("A missing path is an error naming it, or ignored when asked")
    func missingPath() throws {
        let path = makeTree() + "/missing"
        #expect {
            _ = try Ruleset().handling(FileSystemAccess.all(in: .v1)).adding(PathBeneath(path, .readFile)).create()
        } throws: { error in
            "\(error)" == "Failed to open \"\(path)\" for a rule: No such file or directory (ENOENT)"
        }
        let created = try Ruleset().handling(FileSystemAccess.all(in: .v1))
            .adding(PathBeneath(path, .readFile, ignoreIfMissing: true)).create()
        #expect(created.ignoredPaths == [path])
    }
}

@Suite("Layers", .requiresLandlock(.v1))
struct LayerTests {
    @Test("An access needs every layer's permission")
    func stacked() async {
        await #expect(processExitsWith: .success) {
            let a = makeTree(), b = makeTree()
            _ = try filesystemRuleset([PathBeneath(a, .readFile), PathBeneath(b, .readFile)]).create().restrictSelf()
            verify(openFile(b + "/file", O_RDONLY), is: 0, "one layer allows b")
            _ = try filesystemRuleset([PathBeneath(a, .readFile)]).create().restrictSelf()
            verify(openFile(a + "/file", O_RDONLY), is: 0, "both layers allow a")
            verify(openFile(b + "/file", O_RDONLY), is: EACCES, "the second layer denies b")
        }
    }

    @Test("The 17th layer fails with tooManyLayers and changes nothing")
    func maximumLayers() async {
        await #expect(processExitsWith: .success) {
            let tree = makeTree()
            for _ in 1...16 {
                _ = try filesystemRuleset([PathBeneath("/", FileSystemAccess.all(in: .v1))]).create().restrictSelf()
            }
            do {
                _ = try filesystemRuleset([PathBeneath("/", .readFile)]).create().restrictSelf()
                verify(false, "the 17th layer was accepted")
            } catch let error as LandlockError {
                verify(error.code == .tooManyLayers, "code \(error.code)")
                verify("\(error)" == "Failed to restrict the process: it already has the maximum of 16 Landlock layers: Argument list too long (E2BIG)", "\(error)")
            }
            verify(openFile(tree + "/file", O_WRONLY), is: 0, "the refused layer did not apply")
        }
    }
}

@Suite("Network enforcement", .requiresLandlock(.v4))
struct NetworkEnforcementTests {
    @Test("TCP bind: allowed port, denied port, and port 0")
    func tcpBind() async {
        await #expect(processExitsWith: .success) {
            let probe = inetSocket(streamType)
            _ = bind(probe, port: 0)
            let free = localPort(probe)
            close(probe)
            _ = try Ruleset(compatibility: .hardRequirement).handling(NetworkAccess.tcp)
                .adding(NetPort(.bindTCP, port: Int(free))).create().restrictSelf()
            verify(bind(inetSocket(streamType), port: free), is: 0, "bind the allowed port")
            verify(bind(inetSocket(streamType), port: free &+ 1), is: EACCES, "bind another port")
            verify(bind(inetSocket(streamType), port: 0), is: EACCES, "bind port 0 without a rule")
            // UDP is not affected by TCP rules.
            verify(bind(inetSocket(datagramType), port: free &+ 1), is: 0, "UDP bind under TCP rules")
        }
        await #expect(processExitsWith: .success) {
            _ = try Ruleset(compatibility: .hardRequirement).handling(NetworkAccess.tcp)
                .adding(NetPort(.bindTCP, port: 0)).create().restrictSelf()
            let fd = inetSocket(streamType)
            verify(bind(fd, port: 0), is: 0, "bind port 0 with a rule for port 0")
            verify(localPort(fd) != 0, "an ephemeral port was chosen")
        }
    }

    @Test("TCP connect: allowed port, denied port")
    func tcpConnect() async {
        await #expect(processExitsWith: .success) {
            let allowed = tcpListener(), denied = tcpListener()
            _ = try Ruleset(compatibility: .hardRequirement).handling(NetworkAccess.tcp)
                .adding(NetPort(.connectTCP, port: Int(allowed.port))).create().restrictSelf()
            verify(connect(inetSocket(streamType), port: allowed.port), is: 0, "connect to the allowed port")
            verify(connect(inetSocket(streamType), port: denied.port), is: EACCES, "connect to a denied port")
        }
    }

    @Test("UDP rights: enforced by the kernel on ABI 10, reported as dropped below")
    func udp() async throws {
        if TestKernel.abi >= 10 {
            await #expect(processExitsWith: .success) {
                let status = try Ruleset(compatibility: .hardRequirement).handling(NetworkAccess.udp)
                    .adding(NetPort(.bindUDP, port: 5353)).create().restrictSelf()
                verify(status.ruleset == .fullyEnforced, "\(status)")
                verify(bind(inetSocket(datagramType), port: 5353), is: 0, "UDP bind to the allowed port")
                verify(bind(inetSocket(datagramType), port: 5354), is: EACCES, "UDP bind to a denied port")
                verify(connect(inetSocket(datagramType), port: 53), is: EACCES, "UDP connect without a rule")
            }
        } else {
            await #expect(processExitsWith: .success) {
                let status = try Ruleset().handling(NetworkAccess.all(in: .v10))
                    .adding(NetPort([.bindUDP, .bindTCP], port: 5353)).create().restrictSelf()
                verify(status.ruleset == .partiallyEnforced, "\(status)")
                verify(status.dropped.restrictions == ["net.bind_udp", "net.connect_send_udp"], "\(status.dropped)")
                // Honest reporting: the kernel does not restrict UDP here.
                verify(bind(inetSocket(datagramType), port: 5354), is: 0, "UDP bind is unrestricted")
                verify(bind(inetSocket(streamType), port: 5354), is: EACCES, "TCP stays restricted")
            }
            let abi = try #require(LandlockABI(kernelVersion: TestKernel.abi))
            #expect {
                _ = try Ruleset(compatibility: .hardRequirement).handling(NetworkAccess.udp).create()
            } throws: { error in
                "\(error)" == "Failed to meet a hard requirement for the handled network access: net.bind_udp,net.connect_send_udp needs Landlock ABI 10 (Linux 7.2) but the kernel provides Landlock \(abi) (Linux \(abi.linuxVersion))"
            }
        }
    }
}

@Suite("Scopes", .requiresLandlock(.v6))
struct ScopeTests {
    @Test("Abstract UNIX sockets outside the domain are out of reach (EPERM)")
    func abstractUnixSocket() async {
        await #expect(processExitsWith: .success) {
            _ = abstractListener("outside")
            _ = try Ruleset(compatibility: .hardRequirement).scoping(.abstractUnixSocket).create().restrictSelf()
            _ = abstractListener("inside")
            verify(abstractConnect("outside"), is: EPERM, "connect to a socket made outside")
            verify(abstractConnect("inside"), is: 0, "connect to a socket made inside")
        }
    }

    @Test("Signals to processes outside the domain are denied (EPERM)")
    func signal() async {
        await #expect(processExitsWith: .success) {
            // A process outside the domain. It cannot be signalled once we are restricted, so
            // it ends by itself when our end of the pipe closes as this process exits.
            var lifeline: [Int32] = [0, 0]
            pipe(&lifeline)
            let outside = fork()
            if outside == 0 {
                close(lifeline[1])
                for fd: Int32 in 0...2 { close(fd) }
                var byte: UInt8 = 0
                _ = read(lifeline[0], &byte, 1)
                _exit(0)
            }
            close(lifeline[0])
            _ = try Ruleset(compatibility: .hardRequirement).scoping(.signal).create().restrictSelf()
            verify(result(kill(outside, 0)), is: EPERM, "signal a process outside the domain")
            verify(result(kill(getpid(), 0)), is: 0, "signal itself")
            let inside = fork()
            if inside == 0 { for fd: Int32 in 0...2 { close(fd) }; pause(); _exit(0) }
            verify(result(kill(inside, SIGKILL)), is: 0, "signal a child made inside")
            waitpid(inside, nil, 0)
        }
    }
}

@Suite("Threads", .requiresLandlock(.v1))
struct ThreadTests {
    @Test("Every thread is restricted on ABI 8; below, the status says only the calling thread is")
    func allThreads() async {
        await #expect(processExitsWith: .success) {
            let tree = makeTree()
            // A thread that exists before the restriction and tries to read when asked.
            let pipes = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
            pipe(pipes)
            pipe(pipes + 2)
            var thread = pthread_t()
            let context = UnsafeMutablePointer<(Int32, Int32, String)>.allocate(capacity: 1)
            context.initialize(to: (pipes[0], pipes[3], tree + "/file"))
            pthread_create(&thread, nil, { raw in
                let context = raw!.assumingMemoryBound(to: (Int32, Int32, String).self).pointee
                var byte: UInt8 = 0
                _ = read(context.0, &byte, 1)
                var outcome = openFile(context.2, O_RDONLY)
                _ = write(context.1, &outcome, 4)
                return nil
            }, context)
            let status = try filesystemRuleset([PathBeneath("/usr", .readFile)]).create().restrictSelf()
            var byte: UInt8 = 1
            _ = write(pipes[1], &byte, 1)
            var outcome: Int32 = -1
            _ = read(pipes[2], &outcome, 4)
            if TestKernel.abi >= 8 {
                verify(status.allThreads, "TSYNC should apply on ABI \(TestKernel.abi)")
                verify(outcome, is: EACCES, "the other thread is restricted")
            } else {
                verify(!status.allThreads, "the status must not claim all threads on ABI \(TestKernel.abi)")
                verify(status.dropped.restrictSelfFlags == .allThreads, "\(status.dropped)")
                verify(outcome, is: 0, "the other thread is not restricted, as reported")
            }
            verify(openFile(tree + "/file", O_RDONLY), is: EACCES, "the calling thread is restricted")
        }
    }

    @Test("A hard requirement on all threads fails on ABI < 8 and changes nothing")
    func allThreadsRequired() async throws {
        guard TestKernel.abi < 8 else {
            await #expect(processExitsWith: .success) {
                let status = try filesystemRuleset([]).create().restrictSelf(compatibility: .hardRequirement)
                verify(status.allThreads, "\(status)")
            }
            return
        }
        await #expect(processExitsWith: .success) {
            let tree = makeTree()
            do {
                _ = try filesystemRuleset([]).create().restrictSelf(compatibility: .hardRequirement)
                verify(false, "restrictSelf should fail")
            } catch let error as LandlockError {
                verify(error.code == .incompatible, "\(error)")
            }
            verify(openFile(tree + "/file", O_RDONLY), is: 0, "nothing was restricted")
        }
    }
}
