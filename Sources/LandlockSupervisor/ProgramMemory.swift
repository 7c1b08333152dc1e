// SPDX-License-Identifier: Apache-2.0
//
// Reading the program's memory. Everything here is untrusted: the program may hand any value
// (0, 2^63, negative as signed, an unmapped pointer) and rewrite it at any moment. So each
// value is copied once, bounded before anything is allocated for it, and combined only with
// checked or wrapping arithmetic: no value can trap the supervisor or make it allocate more
// than the kernel would accept. Layouts are the C structures' own (`msghdr`, `mmsghdr`,
// `iovec`), read through their Swift imports, never at bare offsets.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

/// Reads exactly `count` bytes of the thread's memory, or `nil` (EFAULT).
func readRemote(_ tid: pid_t, _ address: UInt64, _ count: Int) -> [UInt8]? {
    if count == 0 { return [] }
    guard address != 0, count > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: count)
    let copied = buffer.withUnsafeMutableBytes { clandlock_read_memory(tid, address, $0.baseAddress!, count) }
    return copied == count ? buffer : nil
}

/// Reads one C structure of the thread's memory, or `nil` (EFAULT).
func readRemote<T>(_ tid: pid_t, _ address: UInt64, as type: T.Type) -> T? {
    guard let bytes = readRemote(tid, address, MemoryLayout<T>.size) else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}

func writeRemote(_ tid: pid_t, _ address: UInt64, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { clandlock_write_memory(tid, address, $0.baseAddress!, bytes.count) } == bytes.count
}

/// The kernel's limits on what a send may carry (include/linux/uio.h, net/socket.c).
enum MessageLimits {
    /// `UIO_MAXIOV`: more iovecs, or more sendmmsg entries than this, are refused (EMSGSIZE)
    /// or capped.
    static let vectors = 1024
    /// `sizeof(struct sockaddr_storage)`: longer names are EINVAL (connect, bind, sendto) or
    /// silently cut (msg_namelen).
    static let address = 128
    /// A UDP datagram's payload cannot exceed 65535 bytes with its headers: one byte more than
    /// the largest is enough to get the kernel's EMSGSIZE.
    static let datagram = 65536
    /// What one supervised send of a stream socket copies; the kernel may send less anyway
    /// (a short write), which the program must handle.
    static let stream = 4 << 20
    /// Control data: the kernel refuses more than `INT_MAX` (ENOBUFS) and allocates what it
    /// accepts; the supervisor caps it lower (sysctl net.core.optmem_max is 20-128 KiB).
    static let control = 65536
}

/// A message copied once out of the program's memory.
struct CopiedMessage {
    /// `nil` when the call has no address (the kernel's `msg_name == NULL`).
    var address: [UInt8]?
    var data: [UInt8]
    var control: [UInt8]
    /// Where to write `msg_len` back (sendmmsg), or 0.
    var lengthAddress: UInt64 = 0
    /// The data could not be read: the send fails with EFAULT once the address is checked.
    var dataFault = false
}

/// The kernel's `access_ok` on x86_64: the range lies below the top of user space
/// (TASK_SIZE_MAX with 4-level page tables).
func isUserRange(_ address: UInt64, _ length: UInt64) -> Bool {
    let top: UInt64 = (1 << 47) - 4096
    return length <= top && address <= top - length
}

/// The address of connect/bind/sendto: `.failure(EINVAL)` for a length below 0 or above
/// `sockaddr_storage`, `.failure(EFAULT)` for memory that cannot be read.
func copyAddress(_ tid: pid_t, _ pointer: UInt64, _ rawLength: UInt64) -> Result<[UInt8], Errno32> {
    let length = Int32(truncatingIfNeeded: rawLength)
    guard length >= 0, Int(length) <= MessageLimits.address else { return .failure(Errno32(EINVAL)) }
    guard let bytes = readRemote(tid, pointer, Int(length)) else { return .failure(Errno32(EFAULT)) }
    return .success(bytes)
}

/// A `struct msghdr` at `pointer` and everything it points to, bounded as the kernel bounds
/// it for a socket of `kind` (`___sys_sendmsg`, `import_iovec`, `udp_sendmsg`).
func copyMessage(_ tid: pid_t, _ pointer: UInt64, _ kind: SocketKind) -> Result<CopiedMessage, Errno32> {
    guard let header = readRemote(tid, pointer, as: msghdr.self) else { return .failure(Errno32(EFAULT)) }
    let namePointer = UInt64(UInt(bitPattern: header.msg_name))
    let nameLength = Int32(bitPattern: header.msg_namelen)
    let vectorPointer = UInt64(UInt(bitPattern: header.msg_iov))
    let vectorCount = UInt64(header.msg_iovlen)
    let controlPointer = UInt64(UInt(bitPattern: header.msg_control))
    let controlLength = UInt64(header.msg_controllen)
    guard nameLength >= 0 else { return .failure(Errno32(EINVAL)) }
    var address: [UInt8]? = nil
    if namePointer != 0 && nameLength != 0 {
        // The kernel silently caps msg_namelen at sizeof(struct sockaddr_storage).
        guard let bytes = readRemote(tid, namePointer, min(Int(nameLength), MessageLimits.address)) else {
            return .failure(Errno32(EFAULT))
        }
        address = bytes
    }
    guard vectorCount <= UInt64(MessageLimits.vectors) else { return .failure(Errno32(EMSGSIZE)) }
    let cap = kind.udpFamily != nil ? MessageLimits.datagram : MessageLimits.stream
    var data: [UInt8] = []
    var dataFault = false
    if vectorCount > 0 {
        let vectorSize = MemoryLayout<iovec>.stride
        guard let vector = readRemote(tid, vectorPointer, Int(vectorCount) * vectorSize) else {
            return .failure(Errno32(EFAULT))
        }
        let entries = (0..<Int(vectorCount)).map { index in
            vector.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * vectorSize, as: iovec.self) }
        }
        // import_iovec checks every entry before anything is copied: a negative length is
        // EINVAL, a range outside user space EFAULT (access_ok).
        for entry in entries {
            let length = UInt64(entry.iov_len)
            guard Int64(bitPattern: length) >= 0 else { return .failure(Errno32(EINVAL)) }
            guard isUserRange(UInt64(UInt(bitPattern: entry.iov_base)), length) else { return .failure(Errno32(EFAULT)) }
        }
        // Copy up to one byte past the cap (enough to tell "too long"). Zero-length entries
        // add nothing, as in the kernel. A fault shows only when the data is sent, after the
        // Landlock check of the address.
        for entry in entries where !dataFault && data.count <= cap {
            let take = min(UInt64(entry.iov_len), UInt64(cap + 1 - data.count))
            guard take > 0 else { continue }
            guard let bytes = readRemote(tid, UInt64(UInt(bitPattern: entry.iov_base)), Int(take)) else {
                dataFault = true
                break
            }
            data += bytes
        }
    }
    if data.count > cap {
        data.removeLast(data.count - cap)
        if !kind.isStream {
            // A datagram socket other than UDP refuses an oversized message outright; UDP
            // answers EMSGSIZE after the Landlock check (the byte past 65535 says so).
            if kind.udpFamily == nil { return .failure(Errno32(EMSGSIZE)) }
            data.append(0)
        }
    }
    var control: [UInt8] = []
    if controlPointer != 0 && controlLength > 0 {
        guard controlLength <= UInt64(MessageLimits.control) else { return .failure(Errno32(ENOBUFS)) }
        guard let bytes = readRemote(tid, controlPointer, Int(controlLength)) else { return .failure(Errno32(EFAULT)) }
        control = bytes
    }
    return .success(CopiedMessage(address: address, data: data, control: control, dataFault: dataFault))
}

/// The entries of `sendmmsg(fd, vector, count, flags)`: `struct mmsghdr` each, read until
/// the first that cannot be (the kernel stops there and reports its error only if nothing was
/// sent). `msg_len` is written back at each entry's own address.
func copyMessages(
    _ tid: pid_t, _ vector: UInt64, _ count: UInt64, _ kind: SocketKind
) -> Result<[CopiedMessage], Errno32> {
    let entries = min(Int(count & 0xffff_ffff), MessageLimits.vectors)  // unsigned int vlen, capped
    let stride = UInt64(MemoryLayout<clandlock_mmsghdr>.stride)
    let lengthOffset = UInt64(MemoryLayout<clandlock_mmsghdr>.offset(of: \clandlock_mmsghdr.msg_len)!)
    var messages: [CopiedMessage] = []
    for index in 0..<entries {
        let (entry, overflow) = vector.addingReportingOverflow(UInt64(index) &* stride)
        let result: Result<CopiedMessage, Errno32> = overflow ? .failure(Errno32(EFAULT)) : copyMessage(tid, entry, kind)
        switch result {
        case .success(var message):
            message.lengthAddress = entry &+ lengthOffset
            messages.append(message)
        case .failure(let error):
            if messages.isEmpty { return .failure(error) }
            return .success(messages)
        }
    }
    return .success(messages)
}
