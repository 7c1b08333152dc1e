// SPDX-License-Identifier: Apache-2.0
//
// The walk of fs.resolve_unix (UnixPathRules): from the socket file a lookup reached up to the
// root, by identity.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// What an executor thread opens before it enters the program's filesystem view, for the
/// fs.resolve_unix lookups of one call: its own fd directory, whose magic links it calls
/// through (following them is always allowed to the thread itself, whatever its domain and
/// credentials; O_PATH opens and lookups need no Landlock right), and the supervisor's root,
/// for the walk above the program's root when that differs.
final class UnixLookup: @unchecked Sendable {
    let fdDirectory: Int32
    private let realRoot: Int32
    private let rootName: [UInt8]?

    init?(rootName: [UInt8]?) {
        fdDirectory = open("/proc/thread-self/fd", oPath | O_DIRECTORY | O_CLOEXEC)
        realRoot = open("/", oPath | O_DIRECTORY | O_CLOEXEC)
        self.rootName = rootName
        guard fdDirectory >= 0, realRoot >= 0 else { return nil }
    }

    deinit {
        if fdDirectory >= 0 { close(fdDirectory) }
        if realRoot >= 0 { close(realRoot) }
    }

    /// The identities of the socket file open as `socket` and of every directory above it up
    /// to the root, or `nil` when they cannot be read consistently (a rename meanwhile).
    func chain(of socket: Int32) -> [FileIdentity]? {
        guard let own = FileIdentity(socket) else { return nil }
        // Its name, as the lookup reached it (d_path, relative to this thread's root).
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(fdDirectory, "\(socket)", &buffer, Int(PATH_MAX))
        guard length > 1, buffer[0] == CChar(UInt8(ascii: "/")) else { return nil }
        let name = buffer[0..<length].map { UInt8(bitPattern: $0) }
        guard let slash = name.lastIndex(of: UInt8(ascii: "/")), slash + 1 < name.count else { return nil }
        guard var current = Self.openPath(slash == 0 ? [UInt8(ascii: "/")] : Array(name[..<slash]), from: -100, directory: true)
        else { return nil }
        // The directory must hold the very file the lookup reached (not a file renamed there).
        let entry = Self.openPath(Array(name[(slash + 1)...]), from: current, directory: false)
        let entryIdentity = entry.flatMap { FileIdentity($0) }
        if let entry { close(entry) }
        guard entryIdentity == own else { close(current); return nil }
        let top = FileIdentity(realRoot)
        var chain = [own]
        var climbedAboveRoot = false
        // Up through "..", which crosses mount points as the kernel's walk does.
        for _ in 0..<4096 {
            guard let identity = FileIdentity(current) else { break }
            chain.append(identity)
            var parent = openat(current, "..", oPath | O_DIRECTORY | O_CLOEXEC)
            guard parent >= 0 else { break }
            var parentIdentity = FileIdentity(parent)
            if parentIdentity == identity && identity != top && !climbedAboveRoot, let rootName {
                // The program's root, where this (chrooted) thread's walk stops: go on from
                // the directory that holds it, found by name from the supervisor's root (".."
                // from the root itself would stay there), if that name still leads to it.
                close(parent)
                guard let above = Self.directory(holding: rootName, identity, from: realRoot) else { break }
                parent = above
                parentIdentity = FileIdentity(parent)
                climbedAboveRoot = true
            }
            close(current)
            current = parent
            if parentIdentity == identity { close(current); return chain }  // the root
        }
        close(current)
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
