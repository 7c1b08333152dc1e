// SPDX-License-Identifier: Apache-2.0
//
// Control messages of a performed send. Two kinds name things of the program that mean
// something else in the supervisor:
// - SCM_RIGHTS carries the program's fd numbers: each is replaced by a duplicate taken with
//   pidfd_getfd, so the peer receives the program's files.
// - SCM_CREDENTIALS carries a claimed {pid, uid, gid}, which the kernel checks against the
//   sender (scm_check_creds). The ids are checked by the kernel against the performing
//   thread, which has the program thread's credentials. The pid cannot be: the program may
//   claim its own pid (the kernel accepts it; the supervisor puts its own pid there, as the
//   peer sees it in SO_PEERCRED), never the supervisor's (refused, EPERM, unless it has
//   CAP_SYS_ADMIN as the kernel requires).
// Anything malformed is left as it is: the kernel refuses it on the copy as it would on the
// original (the walk stops where CMSG_NXTHDR would, with checked arithmetic).
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

enum ControlMessages {
    static let headerSize = MemoryLayout<cmsghdr>.size
    static let levelOffset = MemoryLayout<cmsghdr>.offset(of: \cmsghdr.cmsg_level)!
    static let typeOffset = MemoryLayout<cmsghdr>.offset(of: \cmsghdr.cmsg_type)!
    static let rights: Int32 = 1  // SCM_RIGHTS
    static let credentials: Int32 = 2  // SCM_CREDENTIALS

    /// The (offset, length) of each well-formed control message in `control`.
    static func walk(_ control: [UInt8]) -> [(offset: Int, length: Int)] {
        var found: [(Int, Int)] = []
        var offset = 0
        while control.count - offset >= headerSize {
            let declared = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
            // CMSG_OK: at least a header, at most what is left. Larger values (2^63...) end the walk.
            guard declared >= UInt64(headerSize), declared <= UInt64(control.count - offset) else { break }
            let length = Int(declared)
            found.append((offset, length))
            let aligned = (length + 7) & ~7
            guard aligned <= control.count - offset else { break }
            offset += aligned
        }
        return found
    }

    static func level(_ control: [UInt8], _ offset: Int) -> Int32 {
        control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + levelOffset, as: Int32.self) }
    }

    static func type(_ control: [UInt8], _ offset: Int) -> Int32 {
        control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + typeOffset, as: Int32.self) }
    }

    /// Rewrites `control` for a send performed by the supervisor for the thread `facts`
    /// describes: duplicates for SCM_RIGHTS (`translateRights`, through `pidfd`), the
    /// supervisor's pid for a claim of the program's own. Returns the duplicates to close
    /// after the send, or an errno.
    static func prepare(
        _ control: inout [UInt8], translateRights: Bool, pidfd: Int32, facts: ThreadFacts, supervisorPid: pid_t
    ) -> Result<[Int32], Errno32> {
        var duplicates: [Int32] = []
        for (offset, length) in walk(control) where level(control, offset) == SOL_SOCKET {
            switch type(control, offset) {
            case rights where translateRights:
                var position = offset + headerSize
                while position + 4 <= offset + length {
                    let remote = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: Int32.self) }
                    let local = clandlock_pidfd_getfd(pidfd, remote, 0)
                    guard local >= 0 else {
                        for fd in duplicates { close(fd) }
                        return .failure(Errno32(EBADF))
                    }
                    duplicates.append(local)
                    control.withUnsafeMutableBytes { $0.storeBytes(of: local, toByteOffset: position, as: Int32.self) }
                    position += 4
                }
            case credentials where length >= headerSize + MemoryLayout<clandlock_ucred>.size:
                let position = offset + headerSize
                let claimed = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: clandlock_ucred.self) }
                if claimed.pid == facts.ownPid {
                    control.withUnsafeMutableBytes { $0.storeBytes(of: supervisorPid, toByteOffset: position, as: pid_t.self) }
                } else if claimed.pid == supervisorPid && !facts.credentials.has(capabilitySystemAdministration) {
                    for fd in duplicates { close(fd) }
                    return .failure(Errno32(EPERM))
                }
            default:
                continue
            }
        }
        return .success(duplicates)
    }
}
