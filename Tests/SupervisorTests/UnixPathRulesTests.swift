// SPDX-License-Identifier: Apache-2.0
import Landlock
import Testing

@testable import LandlockSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// The pure parts of the supervisor's fs.resolve_unix (UnixPathRules): which addresses are
/// looked up, how /proc/self is spelled for the caller, and the walk from a socket file to
/// the root compared with the rules.
@Suite("fs.resolve_unix in the supervisor")
struct UnixPathRulesTests {
    static func address(_ path: [UInt8]) -> [UInt8] { [UInt8(AF_UNIX), 0] + path }

    @Test func onlyPathnameAddressesAreLookedUp() {
        #expect(UnixAddress.path(Self.address(Array("/run/s".utf8) + [0])) == Array("/run/s".utf8CString))
        // Not NUL-terminated, or with bytes after the NUL: the path ends there, as in the kernel.
        #expect(UnixAddress.path(Self.address(Array("rel".utf8))) == Array("rel".utf8CString))
        #expect(UnixAddress.path(Self.address(Array("a".utf8) + [0, 0x41])) == Array("a".utf8CString))
        #expect(UnixAddress.path(Self.address([0] + Array("abstract".utf8))) == nil)  // the scope's business
        #expect(UnixAddress.path([UInt8(AF_UNIX), 0]) == nil)  // unnamed (autobind)
        #expect(UnixAddress.path([UInt8(AF_INET), 0, 0x2f, 0x61]) == nil)
        // Longer than a sockaddr_un: the kernel refuses it (EINVAL) before any lookup.
        #expect(UnixAddress.path(Self.address([UInt8](repeating: 0x61, count: 109))) == nil)
        #expect(UnixAddress.make(Array("12".utf8)) == Self.address(Array("12".utf8) + [0]))
    }

    @Test func procSelfNamesTheCaller() {
        func spelled(_ path: String) -> String? {
            UnixPathRules.callersProc(Array(path.utf8CString), process: 40, thread: 41, supervisor: 7).map {
                String(decoding: $0.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        #expect(spelled("/proc/self/fd/3") == "/proc/40/fd/3")
        #expect(spelled("/proc/thread-self/fd/3") == "/proc/40/task/41/fd/3")
        #expect(spelled("//proc/./self//fd/3") == "/proc/40/fd/3")
        #expect(spelled("/dev/fd/3") == "/proc/40/fd/3")
        #expect(spelled("/proc/selfish/x") == "/proc/selfish/x")
        #expect(spelled("/tmp/proc/self/fd/3") == "/tmp/proc/self/fd/3")
        #expect(spelled("./a/../b/") == "a/../b/")  // ".." is not lexical: kept
        #expect(spelled("s") == "s")
        #expect(spelled("/proc/7/fd/3") == nil, "the supervisor's own /proc entries")
        // Bytes that are not UTF-8 pass unchanged.
        let raw: [CChar] = [0x2f, 0x74, CChar(bitPattern: 0xff), 0x2f, 0x73, 0]
        #expect(UnixPathRules.callersProc(raw, process: 40, thread: 41, supervisor: 7) == raw)
    }

    /// A rule on a directory grants beneath it, on the socket file grants it alone, and a
    /// socket elsewhere is refused; the walk goes up to the root and stops once satisfied.
    @Test func theWalkComparesEveryDirectoryUpToTheRoot() throws {
        var template = Array("/tmp/unix-path-rules.XXXXXX".utf8CString)
        _ = try #require(mkdtemp(&template))
        let base = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directories = ["/granted", "/granted/deep", "/other"]
        let files = ["/granted/deep/s", "/other/s", "/other/single"]
        for directory in directories { #expect(mkdir(base + directory, 0o755) == 0) }
        for file in files { close(open(base + file, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)) }
        defer {
            for file in files { unlink(base + file) }
            for directory in directories.reversed() + [""] { rmdir(base + directory) }
        }
        let ruleset = try Ruleset().handling(FileSystemAccess.resolveUnix)
            .adding(PathBeneath(base + "/granted", .resolveUnix))
            .adding(PathBeneath(base + "/other/single", .resolveUnix))
        let descriptors = try #require(LookupDescriptors())
        let lookup = UnixLookup(descriptors: descriptors, rootName: nil, changesRoot: false)
        let rules = UnixPathRules(layers: [UnixPathLayer(ruleset: ruleset)], sockets: SandboxSockets(), descriptors: descriptors)
        func opened(_ path: String) -> Int32 { open(base + path, oPath | O_CLOEXEC) }
        // The whole walk, when nothing stops it: the file, its directories, up to "/".
        let deep = opened("/granted/deep/s")
        defer { close(deep) }
        var visited: [FileIdentity] = []
        #expect(lookup.walk(from: deep) { visited.append($0); return false } == false)
        #expect(visited.count == base.split(separator: "/").count + 4)  // s, deep, granted, ..., /
        let root = open("/", oPath | O_CLOEXEC)
        defer { close(root) }
        #expect(visited.last == FileIdentity(root))
        #expect(rules.allows(deep, lookup))
        let other = opened("/other/s"), single = opened("/other/single")
        defer { close(other); close(single) }
        #expect(!rules.allows(other, lookup))
        #expect(rules.allows(single, lookup))
    }

    /// Stacked layers as in the kernel: every layer must grant the right, or have the socket's
    /// binder inside it (the same domain or a nested one).
    @Test func everyLayerMustAllow() throws {
        var template = Array("/tmp/unix-path-layers.XXXXXX".utf8CString)
        _ = try #require(mkdtemp(&template))
        let base = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let socketPath = base + "/s"
        close(open(socketPath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644))
        defer { unlink(socketPath); rmdir(base) }
        let socketFD = open(socketPath, oPath | O_CLOEXEC)
        defer { close(socketFD) }
        let identity = try #require(FileIdentity(socketFD))
        let descriptors = try #require(LookupDescriptors())
        let lookup = UnixLookup(descriptors: descriptors, rootName: nil, changesRoot: false)
        let grants = UnixPathLayer(pins: [open(base, oPath | O_CLOEXEC)])
        let grantsNothing = UnixPathLayer(pins: [open("/proc", oPath | O_CLOEXEC)])
        let sockets = SandboxSockets()
        let outer = UnixPathRules(layers: [grants], sockets: sockets, descriptors: descriptors)
        let both = outer.nesting(grantsNothing)
        #expect(outer.allows(socketFD, lookup))
        #expect(!both.allows(socketFD, lookup), "the inner layer grants nothing beneath the socket")
        #expect(outer.nesting(nil).allows(socketFD, lookup), "a nested layer that does not handle the right adds nothing")
        // Bound by a process of the outer layer only: the inner layer still needs the right.
        sockets.record(identity, pin: open(socketPath, oPath | O_CLOEXEC), layers: [grants.id])
        #expect(!both.allows(socketFD, lookup))
        // Bound inside the inner layer: the same domain for both layers.
        sockets.record(identity, pin: open(socketPath, oPath | O_CLOEXEC), layers: [grants.id, grantsNothing.id])
        #expect(both.allows(socketFD, lookup))
        // Unlinked: forgotten (its inode number may name another file later).
        unlink(socketPath)
        #expect(!both.allows(socketFD, lookup))
    }

    /// Attack: a registration that repeats one file or exceeds the budget of nested rules
    /// cannot make the supervisor hold descriptors without bound.
    @Test func nestedRulesAreDedupedAndBudgeted() throws {
        func pins(_ count: Int, flags: Int32 = oPath) -> [Int32] { (0..<count).map { _ in open("/tmp", flags | O_CLOEXEC) } }
        let repeated = try #require(UnixPathLayer(nestedPins: pins(100)))
        #expect(repeated.granted.count == 1)
        // Held by layers without end: refused once the budget is spent (the registration
        // then fails with EAGAIN), and free again when the layers go.
        var layers: [UnixPathLayer] = []
        while layers.count <= UnixPathLayer.nestedPinBudget, let layer = UnixPathLayer(nestedPins: pins(1)) {
            layers.append(layer)
        }
        #expect(layers.count < UnixPathLayer.nestedPinBudget, "\(layers.count) layers held")
        layers.removeAll()
        #expect(UnixPathLayer(nestedPins: pins(1)) != nil)
        // Not an O_PATH descriptor: refused.
        #expect(UnixPathLayer(nestedPins: pins(1, flags: O_RDONLY)) == nil)
    }

    /// Attack: an executed file whose ELF header points past any offset (2^63) must not trap
    /// the observer of --log-denials (it runs on the supervisor's monitor thread).
    @Test func aHostileELFHeaderDoesNotCrashTheObserver() throws {
        var template = Array("/tmp/hostile-elf.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        #expect(fd >= 0)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1])
        header.replaceSubrange(32..<40, with: [0, 0, 0, 0, 0, 0, 0, 0x80])  // e_phoff = 2^63
        header[54] = 56  // e_phentsize
        header[56] = 64  // e_phnum
        #expect(write(fd, header, header.count) == header.count)
        close(fd)
        #expect(CallObserver.interpreter(of: path) == nil)
        #expect(CallObserver.interpreter(of: "/dev/null") == nil, "not a regular file: not opened for reading")
    }

    /// A bound socket and the place resolved before its bind, in a fresh directory.
    static func bindInFreshDirectory(_ body: (_ socket: Int32, _ place: BindPlace, _ path: String) throws -> Void) throws {
        var template = Array("/tmp/unix-bound.XXXXXX".utf8CString)
        _ = try #require(mkdtemp(&template))
        let base = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let path = base + "/s"
        defer { unlink(path); rmdir(base) }
        let address = UnixAddress.make(Array(path.utf8))
        let place = try #require(BindPlace(address))
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(socket) }
        let bound = address.withUnsafeBytes {
            bind(socket, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
        }
        #expect(bound == 0)
        // A name that exists already: no place (the bind will fail with EADDRINUSE).
        #expect(BindPlace(address) == nil)
        try body(socket, place, path)
    }

    /// The file a bind created is the entry of the place resolved before it (from the kernel's
    /// socket diagnostics where it has them, else as the new single-link entry).
    @Test func theBoundFileIsTheNewEntry() throws {
        try Self.bindInFreshDirectory { socket, place, path in
            var info = stat()
            #expect(stat(path, &info) == 0)
            let file = try #require(place.boundFile(of: socket))
            defer { close(file) }
            #expect(FileIdentity(file) == FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
        }
    }

    /// The kernel's answer itself (sock_diag's UNIX_DIAG_VFS; built into this machine's
    /// kernel, a module the kernel lane's guests do not load).
    @Test(.enabled(if: hasUnixDiagnostics, "The kernel has no UNIX socket diagnostics (CONFIG_UNIX_DIAG)"))
    func theBoundFileIsTheKernels() throws {
        try Self.bindInFreshDirectory { socket, _, path in
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(
                SocketDiagnostics.boundFile(of: socket)
                    == .file(device: UInt64(info.st_dev), inode: UInt32(truncatingIfNeeded: info.st_ino)))
        }
    }
}

/// Whether this kernel answers UNIX socket diagnostics (asked about a socket of this process).
let hasUnixDiagnostics: Bool = {
    let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(socket) }
    return SocketDiagnostics.boundFile(of: socket) != .unavailable
}()
