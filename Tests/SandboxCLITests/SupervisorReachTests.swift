// SPDX-License-Identifier: Apache-2.0
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Attacks an independent attack suite found after the first fixes: memory that stalls the
/// supervisor's reads, and the pid a UNIX socket's peer sees.
@Suite(
    "Supervisor reach, through landlock-exec",
    .enabled(if: getuid() == 0, "Plays a root program: needs root"),
    .enabled(if: access("/usr/bin/python3", X_OK) == 0, "Requires /usr/bin/python3"))
struct SupervisorReachTests {
    /// A root program could register memory with userfaultfd and never serve its faults: the
    /// supervisor reading a sockaddr there waited forever, and every call of the sandbox with
    /// it. Refused in the filter, through the system call and /dev/userfaultfd alike.
    @Test func userfaultfdIsRefused() {
        let probe = """
            import ctypes, errno, os
            libc = ctypes.CDLL(None, use_errno=True)
            r = libc.syscall(323, 0)  # userfaultfd(0)
            print("userfaultfd", r, ctypes.get_errno())
            try:
                fd = os.open("/dev/userfaultfd", os.O_RDWR)
                r = libc.ioctl(fd, 0xAA00, 0)  # USERFAULTFD_IOC_NEW
                print("ioctl", r, ctypes.get_errno())
            except OSError as e:
                print("ioctl skipped", e.errno)
            """
        let result = exec(["--quiet", "--rox", "/", "--rw", "/dev", "--", "/usr/bin/python3", "-c", probe])
        #expect(result.status == 0, "\(result)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "userfaultfd -1 \(EPERM)", "\(result)")
        #expect(lines.count == 2 && (lines[1] == "ioctl -1 \(EPERM)" || lines[1].hasPrefix("ioctl skipped")), "\(result)")
    }

    /// The peer of a UNIX connection the supervisor makes sees landlock-exec's pid; that
    /// process must show no capability the command lacks (it showed CAP_NET_RAW and
    /// CAP_NET_ADMIN, which the command had been denied). A server outside reads the peer
    /// pid's CapEff while the command still waits for its answer.
    @Test func thePeerSeesNoMoreCapabilitiesThanTheCommand() throws {
        let scratch = Scratch()
        let socketPath = scratch.path + "/peer.sock"
        let report = scratch.path + "/peer-capabilities"
        let server = """
            import os, socket, struct, sys
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(1)
            s.settimeout(20); open(sys.argv[1] + ".ready", "w").close()
            c, _ = s.accept()
            pid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            caps = [l.split()[1] for l in open("/proc/%d/status" % pid) if l.startswith("CapEff")][0]
            open(sys.argv[2], "w").write(caps); c.send(b"x")
            """
        var pid: pid_t = 0
        let words: [String] = ["/usr/bin/python3", "-c", server, socketPath, report]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&pid, "/usr/bin/python3", nil, nil, argv, environ) == 0)
        for _ in 0..<200 where access(socketPath + ".ready", F_OK) != 0 { usleep(10_000) }
        let client = """
            import socket, sys
            u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[1]); u.recv(1)
            """
        // --rw grants fs.resolve_unix beneath the scratch directory: the socket is reachable.
        let result = exec(["--quiet", "--rox", "/", "--rw", scratch.path, "--", "/usr/bin/python3", "-c", client, socketPath])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(result.status == 0, "\(result)")
        var bytes = [UInt8](repeating: 0, count: 64)
        let fd = open(report, O_RDONLY)
        let count = fd < 0 ? 0 : bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 64) }
        if fd >= 0 { close(fd) }
        let text = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
        let capabilities = UInt64(text, radix: 16)
        #expect(capabilities != nil, "the server read no capabilities: \(result)")
        #expect(capabilities.map { $0 & (1 << 12 | 1 << 13) == 0 } == true, "the peer pid shows CapEff \(text)")
    }
}

