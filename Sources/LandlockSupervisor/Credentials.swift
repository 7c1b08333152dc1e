// SPDX-License-Identifier: Apache-2.0
//
// Whose credentials a performed call runs with. A call the supervisor performs for the program
// must have the outcome the program would get (supervisor-threat-model.md, "No privilege
// gain"): the kernel checks the credentials of the thread that makes the call, so a thread of
// the program that dropped privileges (setuid, setgroups, capset, a user namespace) must not
// have its calls made with the supervisor's.
//
// - A thread whose credentials equal the supervisor's threads' is served as before.
// - Otherwise its calls are performed on an executor thread that first takes the program
//   thread's credentials (raw per-thread system calls, `clandlock_adopt_credentials`), and
//   calls on UNIX sockets are refused: their peer would see the supervisor's pid, a process
//   with other credentials, in SO_PEERCRED and SCM_CREDENTIALS (fail closed).
// - In another user namespace the program's capabilities apply only to that namespace's
//   objects: the executor takes its ids with no capability at all.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// The credentials the kernel checks for a socket call, as `/proc/<tid>/status` shows them
/// (ids mapped into the supervisor's user namespace).
struct Credentials: Equatable, Sendable {
    /// Real, effective, saved, filesystem.
    var uid: [UInt32] = []
    var gid: [UInt32] = []
    /// Sorted by the kernel.
    var groups: [UInt32] = []
    var effective: UInt64 = 0
    var permitted: UInt64 = 0
    var inheritable: UInt64 = 0
    /// The inode of the thread's user namespace (`/proc/<tid>/ns/user`).
    var userNamespace: UInt64 = 0

    /// What an executor takes to act for a thread with these credentials: in another user
    /// namespace than the supervisor's, the ids without any capability.
    func adoptable(from reference: Credentials) -> Credentials {
        guard userNamespace != reference.userNamespace else { return self }
        var result = self
        result.effective = 0
        result.permitted = 0
        result.inheritable = 0
        return result
    }

    /// Gives the calling thread, and only it, these credentials; `false` if it could not be
    /// done exactly (the call is then refused).
    func adopt() -> Bool {
        guard uid.count == 4, gid.count == 4, groups.count <= Int(CLANDLOCK_MAX_GROUPS) else { return false }
        return groups.withUnsafeBufferPointer { groupPointer in
            var raw = clandlock_credentials()
            raw.uid = (uid[0], uid[1], uid[2], uid[3])
            raw.gid = (gid[0], gid[1], gid[2], gid[3])
            raw.group_count = UInt32(groups.count)
            raw.groups = groupPointer.baseAddress
            raw.effective = effective
            raw.permitted = permitted
            raw.inheritable = inheritable
            return clandlock_adopt_credentials(&raw) == 0
        }
    }

    /// These credentials without the capabilities of `mask`.
    func without(_ mask: UInt64) -> Credentials {
        var result = self
        result.effective &= ~mask
        result.permitted &= ~mask
        result.inheritable &= ~mask
        return result
    }

    /// Whether a program the calling thread starts could hold capabilities of `mask`: they are
    /// permitted, or a user id is root (which gets its bounding set on `execve`). Read with
    /// getresuid(2) and capget(2) rather than from /proc (every launch asks); true when they
    /// cannot be read.
    static func callingThreadMightGive(_ mask: UInt64) -> Bool {
        var uids: (UInt32, UInt32, UInt32) = (1, 1, 1)
        var permitted: UInt64 = 0
        let read = withUnsafeMutableBytes(of: &uids) {
            clandlock_caller_credentials($0.baseAddress!.assumingMemoryBound(to: UInt32.self), &permitted)
        }
        guard read == 0 else { return true }
        return uids.0 == 0 || uids.1 == 0 || uids.2 == 0 || permitted & mask != 0
    }

    /// Whether the effective set holds `capability` (a `CAP_*` number).
    func has(_ capability: Int) -> Bool { effective & (1 << UInt64(capability)) != 0 }
}

let capabilitySystemAdministration = 21  // CAP_SYS_ADMIN
let capabilityNetworkAdministration = 12  // CAP_NET_ADMIN
let capabilityNetworkRaw = 13  // CAP_NET_RAW

/// What the supervisor reads about a thread of the program while its notification waits.
struct ThreadFacts: Sendable {
    /// Its process (Tgid), in the supervisor's pid namespace.
    var process: pid_t = 0
    /// Its process's pid as the program sees it (the last `NStgid`): the pid it may claim in
    /// SCM_CREDENTIALS.
    var ownPid: pid_t = 0
    var credentials = Credentials()

    /// Parses `/proc/<tid>/status` of thread `tid`, and its user namespace; `nil` when the
    /// thread is gone or the text is not what the kernel writes.
    init?(thread tid: pid_t) {
        guard let status = ProcStatus("/proc/\(tid)/status") else { return nil }
        func numbers(_ name: StaticString) -> [UInt32]? { status.words(name)?.compactMap { UInt32(decimal: $0) } }
        guard let process = status.decimal("Tgid"), process > 0,
            let ownPid = status.words("NStgid")?.last.flatMap({ pid_t(decimal: $0) }),
            let uid = numbers("Uid"), uid.count == 4, let gid = numbers("Gid"), gid.count == 4,
            let groups = numbers("Groups"),
            let inheritable = status.mask("CapInh"), let permitted = status.mask("CapPrm"),
            let effective = status.mask("CapEff")
        else { return nil }
        self.process = process
        self.ownPid = ownPid
        credentials.uid = uid
        credentials.gid = gid
        credentials.groups = groups.sorted()
        credentials.inheritable = inheritable
        credentials.permitted = permitted
        credentials.effective = effective
        var info = stat()
        guard stat("/proc/\(tid)/ns/user", &info) == 0 else { return nil }
        credentials.userNamespace = UInt64(info.st_ino)
    }
}

extension FixedWidthInteger {
    /// A decimal number written with ASCII digits only (no sign, no spaces).
    init?(decimal bytes: some Collection<UInt8>) {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: Self = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Self(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        self = value
    }

    /// A hexadecimal number (lower or upper case digits).
    init?(hex bytes: some Collection<UInt8>) {
        guard !bytes.isEmpty, bytes.count <= MemoryLayout<Self>.size * 2 else { return nil }
        var value: Self = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: return nil
            }
            value = value << 4 | Self(digit)
        }
        self = value
    }
}
