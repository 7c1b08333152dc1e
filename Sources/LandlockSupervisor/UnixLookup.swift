// SPDX-License-Identifier: Apache-2.0
//
// The walk of fs.resolve_unix (UnixPathRules): from the socket file a lookup reached up to the
// root, by identity, and the address that names that file for the call.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's descriptors for the fs.resolve_unix lookups, opened once by the supervisor
/// (unrestricted, in its own root): its fd directory, whose magic links the executors call
/// through (`/proc/self/fd`: a thread may always follow the links of its own thread group,
/// whatever its domain and credentials; O_PATH opens and lookups need no Landlock right), and
/// its root, for the walk above a program's root that differs.
final class LookupDescriptors: @unchecked Sendable {
    let fdDirectory: Int32
    let realRoot: Int32

    init?() {
        fdDirectory = open("/proc/self/fd", oPath | O_DIRECTORY | O_CLOEXEC)
        realRoot = open("/", oPath | O_DIRECTORY | O_CLOEXEC)
        guard fdDirectory >= 0, realRoot >= 0 else { return nil }
    }

    deinit {
        if fdDirectory >= 0 { close(fdDirectory) }
        if realRoot >= 0 { close(realRoot) }
    }
}

/// The lookup of one call: the supervisor's descriptors and the program's root when the
/// executor entered it (`chroot`), named in the supervisor's root.
struct UnixLookup {
    let descriptors: LookupDescriptors
    /// `nil`: the executor shares the supervisor's root.
    let rootName: [UInt8]?
    let changesRoot: Bool

    /// The address that names the file open as `fd` without resolving a path again: through
    /// the supervisor's fd directory (absolute when the executor shares its root; else
    /// relative, with the executor's working directory there: see `withFileAddress`).
    func withFileAddress(_ fd: Int32, _ body: ([UInt8]) -> Outcome) -> Outcome {
        guard changesRoot else { return body(UnixAddress.make(Array("/proc/self/fd/\(fd)".utf8))) }
        // In the program's root, /proc may be missing: from the fd directory itself, then back
        // to the working directory for the next message.
        let workingDirectory = open(".", oPath | O_DIRECTORY | O_CLOEXEC)
        guard workingDirectory >= 0, fchdir(descriptors.fdDirectory) == 0 else {
            if workingDirectory >= 0 { close(workingDirectory) }
            return .error(EACCES)
        }
        let outcome = body(UnixAddress.make(Array("\(fd)".utf8)))
        // A directory held open can be entered again; were it not, later relative paths of
        // this call would fail to resolve (refused), never reach another file.
        _ = fchdir(workingDirectory)
        close(workingDirectory)
        return outcome
    }

    /// Visits the identities of the socket file open as `socket`, then of every directory above
    /// it up to the root, until `visit` says stop. `true`: stopped; `false`: the root was
    /// visited; `nil`: they cannot be read consistently (a rename meanwhile).
    func walk(from socket: Int32, _ visit: (FileIdentity) -> Bool) -> Bool? {
        guard let own = FileIdentity(socket) else { return nil }
        if visit(own) { return true }
        // Its name, as the lookup reached it (d_path, relative to this thread's root).
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(descriptors.fdDirectory, "\(socket)", &buffer, Int(PATH_MAX))
        guard length > 1, buffer[0] == CChar(UInt8(ascii: "/")) else { return nil }
        let name = buffer[0..<length].map { UInt8(bitPattern: $0) }
        guard let slash = name.lastIndex(of: UInt8(ascii: "/")), slash + 1 < name.count else { return nil }
        guard var current = Self.openPath(slash == 0 ? [UInt8(ascii: "/")] : Array(name[..<slash]), from: -100, directory: true)
        else { return nil }
        defer { close(current) }
        // The directory must hold the very file the lookup reached (not a file renamed there).
        let entry = Self.openPath(Array(name[(slash + 1)...]), from: current, directory: false)
        let entryIdentity = entry.flatMap { FileIdentity($0) }
        if let entry { close(entry) }
        guard entryIdentity == own else { return nil }
        let top = FileIdentity(descriptors.realRoot)
        var climbedAboveRoot = false
        // Up through "..", which crosses mount points as the kernel's walk does.
        for _ in 0..<4096 {
            guard let identity = FileIdentity(current) else { return nil }
            if visit(identity) { return true }
            var parent = openat(current, "..", oPath | O_DIRECTORY | O_CLOEXEC)
            guard parent >= 0 else { return nil }
            var parentIdentity = FileIdentity(parent)
            if parentIdentity == identity && identity != top && !climbedAboveRoot, let rootName {
                // The program's root, where this (chrooted) thread's walk stops: go on from
                // the directory that holds it, found by name from the supervisor's root (".."
                // from the root itself would stay there), if that name still leads to it.
                close(parent)
                guard let above = Self.directory(holding: rootName, identity, from: descriptors.realRoot) else { return nil }
                parent = above
                parentIdentity = FileIdentity(parent)
                climbedAboveRoot = true
            }
            close(current)
            current = parent
            if parentIdentity == identity { return false }  // the root, visited
        }
        return nil
    }

    /// The directory that holds the file named `name` (absolute, in the supervisor's root),
    /// opened relative to `root` (a name from "/" would start at this thread's root), if the
    /// entry there is the file with `identity`.
    private static func directory(holding name: [UInt8], _ identity: FileIdentity, from root: Int32) -> Int32? {
        let trimmed = Array(name.drop { $0 == UInt8(ascii: "/") })
        guard !trimmed.isEmpty else { return nil }  // the supervisor's root itself
        let slash = trimmed.lastIndex(of: UInt8(ascii: "/"))
        let parentName = slash.map { Array(trimmed[..<$0]) } ?? [UInt8(ascii: ".")]
        let base = slash.map { Array(trimmed[($0 + 1)...]) } ?? trimmed
        guard let parent = openPath(parentName, from: root, directory: true) else { return nil }
        let entry = openPath(base, from: parent, directory: false)
        let entryIdentity = entry.flatMap { FileIdentity($0) }
        if let entry { close(entry) }
        guard entryIdentity == identity else { close(parent); return nil }
        return parent
    }

    private static func openPath(_ path: [UInt8], from directory: Int32, directory isDirectory: Bool) -> Int32? {
        let fd = (path + [0]).withUnsafeBufferPointer {
            openat(
                directory, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                oPath | O_CLOEXEC | (isDirectory ? O_DIRECTORY : O_NOFOLLOW))
        }
        return fd >= 0 ? fd : nil
    }
}
