// SPDX-License-Identifier: Apache-2.0
//
// The program's view of the filesystem, for the calls that name a path: connect, bind and
// sends to a pathname UNIX socket. A path means what it means in the program's root and
// working directory (it may have called chroot or chdir, or entered another mount namespace),
// and a socket file it creates gets its umask. The monitor thread (unrestricted, so /proc is
// always reachable) opens the program thread's root and working directory while its call is
// pending; the executor thread that performs the call takes them for itself only
// (unshare(CLONE_FS)), then acts. Where the root cannot be taken (chroot needs
// CAP_SYS_CHROOT), the call is refused rather than resolved in the supervisor's root.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

final class FileSystemView: @unchecked Sendable {
    /// The program's root when it differs from the supervisor's, else -1.
    private let root: Int32
    /// The program's working directory for a relative path, else -1.
    private let workingDirectory: Int32
    /// The program's umask, for a call that creates a socket file.
    private let mask: mode_t?
    /// Where the program's root is in the supervisor's (its name there, read while the call
    /// was pending), when it differs: the fs.resolve_unix walk goes on above it, as the
    /// kernel's does (UnixPathRules).
    let rootName: [UInt8]?

    /// The view a call of thread `tid` on a socket of `kind` with `addresses` needs:
    /// `.some(nil)` when none is a pathname UNIX address (nothing to take), `nil` when the
    /// thread's view cannot be read (refuse the call). `creating`: bind, which creates the
    /// socket file.
    static func capture(thread tid: pid_t, addresses: [[UInt8]], kind: SocketKind, creating: Bool) -> FileSystemView?? {
        let paths = addresses.filter { $0.count > 2 && $0[2] != 0 }
        guard kind.domain == AF_UNIX, !paths.isEmpty else { return .some(nil) }
        let relative = paths.contains { $0[2] != UInt8(ascii: "/") }
        let root = open("/proc/\(tid)/root", oPath | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return nil }
        var rootInfo = stat()
        guard fstat(root, &rootInfo) == 0, let namespace = inode("/proc/\(tid)/ns/mnt") else { close(root); return nil }
        let sameRoot = rootInfo.st_dev == ownRoot.device && rootInfo.st_ino == ownRoot.inode
            && namespace == ownRoot.mountNamespace
        var directory: Int32 = -1
        if relative {
            directory = open("/proc/\(tid)/cwd", oPath | O_DIRECTORY | O_CLOEXEC)
            guard directory >= 0 else { close(root); return nil }
        }
        var mask: mode_t? = nil
        if creating {
            guard let value = umask(of: tid) else {
                close(root)
                if directory >= 0 { close(directory) }
                return nil
            }
            mask = value
        }
        if sameRoot {
            close(root)
            return .some(FileSystemView(root: -1, workingDirectory: directory, mask: mask, rootName: nil))
        }
        var name = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/\(tid)/root", &name, Int(PATH_MAX))
        let rootName = length > 0 ? name[0..<length].map { UInt8(bitPattern: $0) } : nil
        return .some(FileSystemView(root: root, workingDirectory: directory, mask: mask, rootName: rootName))
    }

    private init(root: Int32, workingDirectory: Int32, mask: mode_t?, rootName: [UInt8]?) {
        self.root = root
        self.workingDirectory = workingDirectory
        self.mask = mask
        self.rootName = rootName
    }

    /// Whether entering changes the thread's root: it cannot go back, so the call runs on a
    /// thread of its own.
    var changesRoot: Bool { root >= 0 }

    /// Gives the calling executor thread, and only it, the program's root, working directory
    /// and umask. `false`: it could not; refuse the call. Without a new root, what it changes
    /// is set again by the next call that needs it (a pooled executor keeps its own fs).
    func enter() -> Bool {
        guard clandlock_unshare_fs() == 0 else { return false }
        if root >= 0 {
            guard fchdir(root) == 0, chroot(".") == 0 else { return false }
        }
        if workingDirectory >= 0 {
            guard fchdir(workingDirectory) == 0 else { return false }
        } else if root >= 0 {
            _ = chdir("/")
        }
        if let mask { Glibc.umask(mask) }
        return true
    }

    deinit {
        if root >= 0 { close(root) }
        if workingDirectory >= 0 { close(workingDirectory) }
    }

    private static let ownRoot: (device: UInt64, inode: UInt64, mountNamespace: UInt64) = {
        var info = stat()
        _ = stat("/", &info)
        return (UInt64(info.st_dev), UInt64(info.st_ino), inode("/proc/self/ns/mnt") ?? 0)
    }()

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    /// `Umask` of `/proc/<tid>/status` (the fs_struct's, shared by the threads that share it).
    private static func umask(of tid: pid_t) -> mode_t? {
        guard let digits = ProcStatus("/proc/\(tid)/status")?.field("Umask"), !digits.isEmpty else { return nil }
        var value: mode_t = 0
        for digit in digits {
            guard digit >= 0x30, digit <= 0x37 else { return nil }
            value = value * 8 + mode_t(digit - 0x30)
        }
        return value & 0o777
    }
}
