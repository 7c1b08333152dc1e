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
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

enum ControlMessages {
    static let headerSize = MemoryLayout<cmsghdr>.size
    static let levelOffset = MemoryLayout<cmsghdr>.offset(of: \cmsghdr.cmsg_level)!
    static let typeOffset = MemoryLayout<cmsghdr>.offset(of: \cmsghdr.cmsg_type)!
    static let rights: Int32 = 1  // SCM_RIGHTS
    static let credentials: Int32 = 2  // SCM_CREDENTIALS

    /// The (offset, length) of each control message in `control` as `for_each_cmsghdr` visits
    /// them, and whether every visited header was well formed (`CMSG_OK`).
    static func walk(_ control: [UInt8]) -> (messages: [(offset: Int, length: Int)], complete: Bool) {
        var found: [(Int, Int)] = []
        var offset = 0
        while control.count - offset >= headerSize {
            let declared = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
            // CMSG_OK: at least a header, at most what is left. Larger values (2^63...) end the walk.
            guard declared >= UInt64(headerSize), declared <= UInt64(control.count - offset) else { return (found, false) }
            let length = Int(declared)
            found.append((offset, length))
            offset += (length + 7) & ~7
        }
        return (found, true)
    }

    static func level(_ control: [UInt8], _ offset: Int) -> Int32 {
        control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + levelOffset, as: Int32.self) }
    }

    static func type(_ control: [UInt8], _ offset: Int) -> Int32 {
        control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + typeOffset, as: Int32.self) }
    }

    /// Whether `control` holds an SCM_CREDENTIALS claim that `scm_check_creds` refuses for a
    /// thread with `facts`: another pid without CAP_SYS_ADMIN, a uid or gid that is none of its
    /// own without CAP_SETUID or CAP_SETGID.
    static func claimsForbiddenCredentials(_ control: [UInt8], _ facts: ThreadFacts) -> Bool {
        walk(control).messages.contains { offset, length in
            guard level(control, offset) == SOL_SOCKET, type(control, offset) == self.credentials,
                length == headerSize + MemoryLayout<clandlock_ucred>.size
            else { return false }
            return !mayClaim(claim(control, offset), facts)
        }
    }

    private static func claim(_ control: [UInt8], _ offset: Int) -> clandlock_ucred {
        control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + headerSize, as: clandlock_ucred.self) }
    }

    /// `scm_check_creds` for a thread with `facts`.
    private static func mayClaim(_ claimed: clandlock_ucred, _ facts: ThreadFacts) -> Bool {
        let credentials = facts.credentials
        let setUID = 7, setGID = 6  // CAP_SETUID, CAP_SETGID
        return (claimed.pid == facts.ownPid || credentials.has(capabilitySystemAdministration))
            && (credentials.uid.prefix(3).contains(claimed.uid) || credentials.has(setUID))
            && (credentials.gid.prefix(3).contains(claimed.gid) || credentials.has(setGID))
    }

    /// Rewrites the control data of a send on a UNIX socket, performed by the supervisor for
    /// the thread `facts` describes, checking it in the order of the kernel's `__scm_send`:
    /// duplicates for SCM_RIGHTS (through `pidfd`), the supervisor's pid for a claim of the
    /// program's own. Returns the duplicates to close after the send, or the kernel's errno.
    static func prepare(
        _ control: inout [UInt8], pidfd: Int32, facts: ThreadFacts, supervisorPid: pid_t
    ) -> Result<[Int32], Errno32> {
        let maximumFiles = 253  // SCM_MAX_FD
        var duplicates: [Int32] = []
        func fail(_ error: Int32) -> Result<[Int32], Errno32> {
            for fd in duplicates { Closer.close(fd, mayWait: true) }
            return .failure(Errno32(error))
        }
        let (messages, complete) = walk(control)
        for (offset, length) in messages where level(control, offset) == SOL_SOCKET {
            switch type(control, offset) {
            case rights:
                let count = (length - headerSize) / 4
                guard count <= maximumFiles else { return fail(EINVAL) }
                for index in 0..<count {
                    let position = offset + headerSize + index * 4
                    let remote = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: Int32.self) }
                    let local = clandlock_pidfd_getfd(pidfd, remote, 0)
                    guard local >= 0 else { return fail(EBADF) }
                    duplicates.append(local)
                    control.withUnsafeMutableBytes { $0.storeBytes(of: local, toByteOffset: position, as: Int32.self) }
                }
            case credentials:
                guard length == headerSize + MemoryLayout<clandlock_ucred>.size else { return fail(EINVAL) }
                let claimed = claim(control, offset)
                guard mayClaim(claimed, facts) else { return fail(EPERM) }
                if claimed.pid == facts.ownPid {
                    control.withUnsafeMutableBytes {
                        $0.storeBytes(of: supervisorPid, toByteOffset: offset + headerSize, as: pid_t.self)
                    }
                } else if claimed.pid != supervisorPid && getpgid(claimed.pid) < 0 && errno == ESRCH {
                    return fail(ESRCH)  // The kernel looks the pid up before the next message.
                }
            default:
                return fail(EINVAL)
            }
        }
        // A malformed header (CMSG_OK fails) ends the kernel's walk with EINVAL.
        return complete ? .success(duplicates) : fail(EINVAL)
    }
}
