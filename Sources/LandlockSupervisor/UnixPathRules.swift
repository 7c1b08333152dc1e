// SPDX-License-Identifier: Apache-2.0
//
// fs.resolve_unix on kernels before ABI 9 (Linux 7.1): the supervisor performs the lookup of a
// pathname UNIX socket for the program's connect(2) and sends with an address, and applies
// the kernel's `hook_unix_find` to the socket the lookup reached (spec/landlock-abi.md §8):
//
// 1. The path is resolved once, by the executor thread that performs the call, in the
//    program's root and working directory and with its credentials, to an O_PATH descriptor
//    (symlinks, `..`, magic links such as /proc/self/fd/N: whatever the kernel's lookup
//    follows). Resolution errors are the lookup's (ENOENT, ENOTDIR, ELOOP, EACCES...).
// 2. The socket file and each directory above it, up to the root, is compared by identity
//    (device, inode) with the paths of the rules that grant fs.resolve_unix: a match grants
//    it, as a rule beneath which the socket lies does in the kernel.
// 3. Same-domain exception: a socket file that a process of the sandbox bound (the
//    supervisor performs every bind of the sandbox, and records what it bound) is reachable
//    without the right.
// 4. Allowed: the call is performed on the descriptor itself, through
//    the supervisor's /proc/self/fd/N, never by resolving the path again. Denied: EACCES.
//
// Differences from the kernel: refusals where the supervisor cannot see as the kernel does (a
// socket file reached outside the program's root through a magic link; a walk above a chroot
// whose name in the supervisor's root no longer leads to it; a path to a socket file that no
// socket is bound to: EACCES where the kernel answers ECONNREFUSED); and one allowance: a
// socket that the sandbox bound but that was created outside it counts as the sandbox's.
internal import CLandlock
import Landlock
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A file's identity: what the kernel's Landlock rules are attached to (the inode).
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    init?(_ fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// One layer's fs.resolve_unix rules: the sandbox's own, or a nested sandbox's registered
/// with this supervisor.
final class UnixPathLayer: @unchecked Sendable {
    /// Names the layer in the records of bound sockets (never reused, unlike an address).
    let id: UInt64
    /// The files and directories beneath which the right is granted, held open (O_PATH) so
    /// that their identities name them for the layer's life, as the kernel's rules do.
    let granted: Set<FileIdentity>
    private let pins: [Int32]
    private static let nextID = Atomic<UInt64>(1)

    /// Takes `pins`, O_PATH descriptors of the rules' paths (closed with the layer).
    /// Descriptors held for the layers nested sandboxes registered (`counted`), all together.
    private let counted: Bool
    private static let nestedPins = Atomic<Int>(0)
    /// At most this many, over every registered layer: a program may register layers (and
    /// leave them, anchors dying) without end, and the supervisor's descriptors are few.
    static let nestedPinBudget = 256

    /// Takes `pins`, one per distinct file (others are closed).
    init(pins: [Int32], counted: Bool = false) {
        id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var granted: Set<FileIdentity> = []
        var kept: [Int32] = []
        for pin in pins {
            if let identity = FileIdentity(pin), granted.insert(identity).inserted { kept.append(pin) } else { close(pin) }
        }
        self.granted = granted
        self.pins = kept
        self.counted = counted
    }

    /// A nested layer's rules: the registering anchor's descriptors `numbers`, taken with
    /// `pidfd_getfd` (see `init?(nestedPins:)`).
    convenience init?(taking numbers: [Int32], from pidfd: Int32) {
        var pins: [Int32] = []
        for number in numbers {
            let pin = clandlock_pidfd_getfd(pidfd, number, 0)
            guard pin >= 0 else { for fd in pins { close(fd) }; return nil }
            pins.append(pin)
        }
        self.init(nestedPins: pins)
    }

    /// Takes `pins`, a nested layer's descriptors of its rule paths. `nil` (all closed) if one
    /// is not an O_PATH descriptor (closing one never waits: the program could have put a file
    /// whose flush blocks there), or if the budget of nested rules is spent. One is kept per
    /// distinct file.
    convenience init?(nestedPins pins: [Int32]) {
        var kept: [Int32] = []
        var seen: Set<FileIdentity> = []
        var refused = false
        for pin in pins {
            if refused || clandlock_fcntl_getfl(pin) & oPath == 0 {
                refused = true
                Closer.close(pin, mayWait: true)
            } else if let identity = FileIdentity(pin), seen.insert(identity).inserted {
                kept.append(pin)
            } else {
                close(pin)
            }
        }
        let total = refused ? Int.max : Self.nestedPins.wrappingAdd(kept.count, ordering: .relaxed).newValue
        guard total <= Self.nestedPinBudget else {
            if !refused { Self.nestedPins.wrappingSubtract(kept.count, ordering: .relaxed) }
            for fd in kept { close(fd) }
            return nil
        }
        self.init(pins: kept, counted: true)
    }

    /// The rules of `ruleset` that grant fs.resolve_unix. A rule path that cannot be opened
    /// grants nothing (the kernel ruleset refused it already, unless it may be missing).
    convenience init(ruleset: Ruleset) {
        self.init(pins: Self.openRulePaths(of: ruleset))
    }

    /// O_PATH descriptors of the paths of the rules of `ruleset` that grant fs.resolve_unix.
    static func openRulePaths(of ruleset: Ruleset) -> [Int32] {
        ruleset.rules.compactMap { rule in
            guard case .pathBeneath(let beneath, _) = rule, beneath.access.contains(.resolveUnix) else { return nil }
            let fd = open(beneath.path, oPath | O_CLOEXEC)
            return fd >= 0 ? fd : nil
        }
    }

    deinit {
        for fd in pins { close(fd) }
        if counted { Self.nestedPins.wrappingSubtract(pins.count, ordering: .relaxed) }
    }
}

/// The fs.resolve_unix layers that apply to one call, outermost first, and the sandbox's
/// bound sockets.
struct UnixPathRules: @unchecked Sendable {
    let layers: [UnixPathLayer]
    let sockets: SandboxSockets
    /// The supervisor's descriptors for the lookups; `nil` when they could not be opened (no
    /// /proc): every lookup is refused.
    let descriptors: LookupDescriptors?

    /// The rules for the members of a nested layer: these, and `layer` if it handles the right.
    func nesting(_ layer: UnixPathLayer?) -> UnixPathRules {
        UnixPathRules(layers: layers + (layer.map { [$0] } ?? []), sockets: sockets, descriptors: descriptors)
    }

    // MARK: The decision

    /// `hook_unix_find` for the socket file open as `socket`: every layer grants the right
    /// beneath it (on the file or a directory above it), or the socket was bound by a process
    /// inside that layer (the same domain, or one nested in it). The walk stops as soon as
    /// every layer is satisfied, as the kernel's does.
    func allows(_ socket: Int32, _ lookup: UnixLookup) -> Bool {
        guard let identity = FileIdentity(socket) else { return false }
        let binders = sockets.binderLayers(of: identity) ?? []
        var waiting = layers.filter { !binders.contains($0.id) }
        if waiting.isEmpty { return true }
        let satisfied = lookup.walk(from: socket) { identity in
            waiting.removeAll { $0.granted.contains(identity) }
            return waiting.isEmpty
        }
        return satisfied == true
    }

    // MARK: Performing

    /// Remembers the socket file that a bind of `socket` by the sandbox just created at
    /// `place` (taken before the bind: BoundSocketFile.swift). Nothing when it cannot be
    /// established which file that is (the exception then does not apply: fail closed).
    func recordBind(_ place: BindPlace, socket: Int32) {
        guard let fd = place.boundFile(of: socket) else { return }
        guard let identity = FileIdentity(fd) else { close(fd); return }
        sockets.record(identity, pin: fd, layers: Set(layers.map(\.id)))
    }

    /// Performs `body` with `address` (connect, or a send's destination) after the lookup and
    /// check above: `body` receives the address to use, which names the socket file the
    /// lookup reached. Addresses that are not pathnames go through unchanged. Runs on the
    /// executor thread that opened `lookup` and then entered the program's filesystem view.
    func resolving(
        _ address: [UInt8], process: pid_t, thread: pid_t, lookup: UnixLookup?, _ body: ([UInt8]) -> Outcome
    ) -> Outcome {
        guard let named = UnixAddress.path(address) else { return body(address) }
        guard let lookup else { return .error(EACCES) }  // no /proc: cannot resolve safely
        guard let path = Self.callersProc(named, process: process, thread: thread) else { return .error(EACCES) }
        let socket = path.withUnsafeBufferPointer { open($0.baseAddress!, oPath | O_CLOEXEC) }
        guard socket >= 0 else { return .error(lastErrno) }  // the lookup's own error
        defer { close(socket) }
        var info = stat()
        guard fstat(socket, &info) == 0 else { return .error(EACCES) }
        if info.st_mode & S_IFMT == S_IFSOCK {
            guard allows(socket, lookup) else { return .error(EACCES) }
        }  // Not a socket: the call through the descriptor fails as the kernel's would (ECONNREFUSED).
        return lookup.withFileAddress(socket, body)
    }

    /// The path as the caller means it, for a lookup made by a supervisor thread: with "." and
    /// repeated slashes removed (no change to what it names), `/proc/self/`,
    /// `/proc/thread-self/` and `/dev/fd/` spelled with the caller's ids. `nil` for a path
    /// into the supervisor's own `/proc` entries, which the caller may not inspect (the
    /// kernel's ptrace check refuses it: EACCES). A lookup that reaches those links otherwise
    /// (relative to /proc, through `..` or a symbolic link) resolves them as the supervisor's:
    /// the socket it reaches is still checked.
    static func callersProc(
        _ path: [CChar], process: pid_t, thread: pid_t, supervisor: pid_t = getpid()
    ) -> [CChar]? {
        let bytes = path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }  // bytes: any encoding
        let slash = UInt8(ascii: "/")
        let absolute = bytes.first == slash
        let components = bytes.split(separator: slash, omittingEmptySubsequences: true).map(Array.init)
            .filter { $0 != [UInt8(ascii: ".")] }
        func word(_ text: String) -> [UInt8] { Array(text.utf8) }
        var spelled = components
        if absolute && components.count >= 2 {
            switch (components[0], components[1]) {
            case (word("proc"), word("self")): spelled = [word("proc"), word("\(process)")] + components.dropFirst(2)
            case (word("proc"), word("thread-self")):
                spelled = [word("proc"), word("\(process)"), word("task"), word("\(thread)")] + components.dropFirst(2)
            case (word("dev"), word("fd")): spelled = [word("proc"), word("\(process)"), word("fd")] + components.dropFirst(2)
            case (word("proc"), let id):
                if let number = pid_t(String(decoding: id, as: UTF8.self)),
                    number == supervisor || access("/proc/\(supervisor)/task/\(number)", F_OK) == 0
                {
                    return nil
                }
            default: break
            }
        }
        var result = (absolute ? [slash] : []) + Array(spelled.joined(separator: [slash]))
        if bytes.last == slash && !spelled.isEmpty { result.append(slash) }
        if result.isEmpty { result = [UInt8(ascii: ".")] }
        return result.map { CChar(bitPattern: $0) } + [0]
    }

}

/// Pathname `sockaddr_un` addresses.
enum UnixAddress {
    /// The path of a pathname address, NUL-terminated; `nil` for an abstract, unnamed or
    /// non-UNIX address, or one the kernel refuses before any lookup (longer than a
    /// `sockaddr_un`: EINVAL). As the kernel (`unix_mkname_bsd`), the path ends at the first
    /// NUL or at the address's end.
    static func path(_ address: [UInt8]) -> [CChar]? {
        guard address.count > 2, address.count <= MemoryLayout<sockaddr_un>.size, isFamily(address), address[2] != 0
        else { return nil }
        let bytes = address[2...].prefix { $0 != 0 }
        return bytes.map { CChar(bitPattern: $0) } + [0]
    }

    private static func isFamily(_ address: [UInt8]) -> Bool {
        address.count >= 2 && (UInt16(address[0]) | UInt16(address[1]) << 8) == UInt16(AF_UNIX)
    }

    /// A pathname address for `path`.
    static func make(_ path: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt16(AF_UNIX)) { Array($0) } + path + [0]
    }
}
