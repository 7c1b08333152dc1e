// SPDX-License-Identifier: Apache-2.0
//
// Reading the program's memory. Everything here is untrusted: the program may hand any value
// (0, 2^63, negative as signed, an unmapped pointer) and rewrite it at any moment. So each
// value is copied once, bounded before anything is allocated for it, and combined only with
// checked or wrapping arithmetic: no value can trap the supervisor or make it allocate more
// than the kernel would accept. Layouts are the C structures' own (`msghdr`, `mmsghdr`,
// `iovec`), read through their Swift imports, never at bare offsets.
internal import CLandlock
import SandboxSupport

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's limits on what a send may carry (include/linux/uio.h, net/socket.c).
enum MessageLimits {
    /// `UIO_MAXIOV`: more iovecs are refused (EMSGSIZE); more sendmmsg entries are capped.
    static let vectors = 1024
    /// `sizeof(struct sockaddr_storage)`: longer names are EINVAL (connect, bind, sendto) or
    /// silently cut (msg_namelen).
    static let address = 128
    /// `MAX_RW_COUNT`: what one call transfers at most.
    static let transfer: UInt64 = 0x7fff_f000
    /// What the supervisor copies of one message: a UDP datagram cannot carry more (65535
    /// bytes with its headers), and a stream send may be short. Beyond it the message goes on
    /// as *missing* bytes (see `FaultRegion`), which the kernel refuses or sends short.
    static let datagramCopy = 65536
    static let streamCopy = 4 << 20
    /// What one call copies in all (a sendmmsg of 1024 messages pointing at one large buffer
    /// must not make the supervisor hold gigabytes): messages past it go on uncopied, as
    /// missing bytes, and end the batch as a fault would.
    static let callCopy = 4 << 20
    /// Control data: the kernel refuses more than `INT_MAX`, and from `net.core.optmem_max` on
    /// (ENOBUFS), before reading it.
    static let controlMaximum: UInt64 = {
        guard let text = readSmallFile("/proc/sys/net/core/optmem_max", limit: 64),
            let value = UInt64(decimal: text.filter { $0 >= 0x30 && $0 <= 0x39 })
        else { return 20480 }
        return min(value, UInt64(Int32.max))
    }()
}

/// A message copied once out of the program's memory.
struct CopiedMessage {
    /// `nil` when the call has no address (the kernel's `msg_name == NULL`).
    var address: [UInt8]?
    /// The data that could be copied: all of it, or what came before a fault or the copy limit.
    var data: [UInt8]
    /// How many bytes follow `data` in the program's message without having been copied
    /// (unreadable, or beyond the limit). The performed send carries them as unreadable
    /// memory, so the kernel gives the program's result: EFAULT, a short send, or the error it
    /// finds before reading the data (EMSGSIZE, EDESTADDRREQ, ...).
    var missing: UInt64 = 0
    var control: [UInt8] = []
    /// Where to write `msg_len` back (sendmmsg), or 0.
    var lengthAddress: UInt64 = 0

    var length: UInt64 { UInt64(data.count) + missing }
}

/// Unreadable memory of the supervisor: the iovec that stands for a message's missing bytes.
/// Low in the address space, so that its start plus any length the program could pass
/// (access_ok) stays a user address.
enum FaultRegion {
    nonisolated(unsafe) static let base: UnsafeMutableRawPointer = {
        let hint = UnsafeMutableRawPointer(bitPattern: 0x10000)
        let mapped = mmap(hint, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        return mapped == MAP_FAILED ? UnsafeMutableRawPointer(bitPattern: 0x1000)! : mapped!
    }()
}

/// The kernel's `access_ok` on x86_64: the range lies below the top of user space
/// (TASK_SIZE_MAX with 4-level page tables).
func isUserRange(_ address: UInt64, _ length: UInt64) -> Bool {
    let top: UInt64 = (1 << 47) - 4096
    return length <= top && address <= top - length
}

/// The data of one iovec list, as the kernel would consume it: copied up to `cap`, the rest
/// missing.
func copyData(_ tid: pid_t, _ entries: [(base: UInt64, length: UInt64)], cap: Int) -> (data: [UInt8], missing: UInt64) {
    copyData(RemoteReads(tid: tid), entries, cap: cap)
}

func copyData(
    _ reads: RemoteReads, _ entries: [(base: UInt64, length: UInt64)], cap: Int
) -> (data: [UInt8], missing: UInt64) {
    var data: [UInt8] = []
    var missing: UInt64 = 0
    for entry in entries where entry.length > 0 {
        guard missing == 0, data.count < cap else {
            missing &+= entry.length
            continue
        }
        let take = Int(min(entry.length, UInt64(cap - data.count)))
        let bytes = reads.prefix(entry.base, take)
        data += bytes
        missing = entry.length - UInt64(bytes.count)
    }
    return (data, min(missing, MessageLimits.transfer))
}

/// The ranges `copyData` reads when every one can be read whole (a guess for `prefetch`).
func plannedDataReads(_ entries: [(base: UInt64, length: UInt64)], cap: Int) -> [(address: UInt64, length: Int)] {
    var ranges: [(address: UInt64, length: Int)] = []
    var count = 0
    for entry in entries where entry.length > 0 {
        guard count < cap else { break }
        let take = Int(min(entry.length, UInt64(cap - count)))
        ranges.append((entry.base, take))
        count += take
    }
    return ranges
}

/// The address of connect/bind/sendto: `.failure(EINVAL)` for a length below 0 or above
/// `sockaddr_storage`, `.failure(EFAULT)` for memory that cannot be read.
func copyAddress(_ tid: pid_t, _ pointer: UInt64, _ rawLength: UInt64) -> Result<[UInt8], Errno32> {
    let length = Int32(truncatingIfNeeded: rawLength)
    guard length >= 0, Int(length) <= MessageLimits.address else { return .failure(Errno32(EINVAL)) }
    guard let bytes = readRemote(tid, pointer, Int(length)) else { return .failure(Errno32(EFAULT)) }
    return .success(bytes)
}

/// A `struct msghdr` at `pointer` and everything it points to, checked in the order of the
/// kernel's `copy_msghdr_from_user`, `import_iovec` and `____sys_sendmsg`.
func copyMessage(
    _ tid: pid_t, _ pointer: UInt64, _ kind: SocketKind, budget: Int = MessageLimits.callCopy
) -> Result<CopiedMessage, Errno32> {
    guard let header = readRemote(tid, pointer, as: msghdr.self) else { return .failure(Errno32(EFAULT)) }
    return copyMessage(RemoteReads(tid: tid), header: header, kind, budget: budget)
}

/// Where a `struct msghdr` points: its name (capped as the kernel caps `msg_namelen`), its
/// iovec array and its control data.
struct MessagePointers {
    let namePointer: UInt64
    /// `msg_namelen` as the kernel reads it: ignored without a name.
    let nameLength: Int32
    let vectorPointer: UInt64
    let vectorCount: UInt64
    let controlPointer: UInt64
    let controlLength: UInt64

    init(_ header: msghdr) {
        namePointer = UInt64(UInt(bitPattern: header.msg_name))
        nameLength = namePointer == 0 ? 0 : Int32(bitPattern: header.msg_namelen)
        vectorPointer = UInt64(UInt(bitPattern: header.msg_iov))
        vectorCount = UInt64(UInt(bitPattern: header.msg_iovlen))
        controlPointer = UInt64(UInt(bitPattern: header.msg_control))
        controlLength = UInt64(UInt(bitPattern: header.msg_controllen))
    }

    /// The kernel silently caps msg_namelen at sizeof(struct sockaddr_storage).
    var nameRead: (address: UInt64, length: Int)? {
        nameLength > 0 ? (namePointer, min(Int(nameLength), MessageLimits.address)) : nil
    }

    var vectorRead: (address: UInt64, length: Int)? {
        vectorCount > 0 && vectorCount <= UInt64(MessageLimits.vectors)
            ? (vectorPointer, Int(vectorCount) * MemoryLayout<iovec>.stride) : nil
    }

    /// import_iovec: reads the entries in order, each refused if negative (EINVAL) or not
    /// readable (EFAULT); then checks every range (EFAULT) and caps the total at MAX_RW_COUNT.
    /// A single entry is capped before its range is checked (import_ubuf), several after.
    func vectors(_ reads: RemoteReads) -> Result<[(base: UInt64, length: UInt64)], Errno32> {
        guard let range = vectorRead else { return .success([]) }
        let vectorSize = MemoryLayout<iovec>.stride
        let vector = reads.prefix(range.address, range.length)
        var raw: [iovec] = []
        for index in 0..<Int(vectorCount) {
            guard (index + 1) * vectorSize <= vector.count else { return .failure(Errno32(EFAULT)) }
            let entry = vector.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * vectorSize, as: iovec.self) }
            guard entry.iov_len >= 0 else { return .failure(Errno32(EINVAL)) }
            raw.append(entry)
        }
        var entries: [(base: UInt64, length: UInt64)] = []
        var total: UInt64 = 0
        for entry in raw {
            var length = UInt64(entry.iov_len)
            let base = UInt64(UInt(bitPattern: entry.iov_base))
            if raw.count == 1 { length = min(length, MessageLimits.transfer) }
            guard isUserRange(base, length) else { return .failure(Errno32(EFAULT)) }
            length = min(length, MessageLimits.transfer - total)
            total += length
            entries.append((base, length))
        }
        return .success(entries)
    }
}

/// Everything a `struct msghdr` already copied points to (see above), read through `reads`.
func copyMessage(_ reads: RemoteReads, header: msghdr, _ kind: SocketKind, budget: Int) -> Result<CopiedMessage, Errno32> {
    let pointers = MessagePointers(header)
    guard pointers.nameLength >= 0 else { return .failure(Errno32(EINVAL)) }
    var address: [UInt8]? = nil
    if let name = pointers.nameRead {
        guard let bytes = reads.exactly(name.address, name.length) else { return .failure(Errno32(EFAULT)) }
        address = bytes
    }
    guard pointers.vectorCount <= UInt64(MessageLimits.vectors) else { return .failure(Errno32(EMSGSIZE)) }
    let entries: [(base: UInt64, length: UInt64)]
    switch pointers.vectors(reads) {
    case .success(let value): entries = value
    case .failure(let error): return .failure(error)
    }
    // Up to 36 bytes live on the kernel's stack; more come from sock_kmalloc, which refuses
    // anything not below optmem_max.
    let controlLength = pointers.controlLength
    guard controlLength <= UInt64(Int32.max), controlLength <= 36 || controlLength < MessageLimits.controlMaximum else {
        return .failure(Errno32(ENOBUFS))
    }
    var control: [UInt8] = []
    if controlLength > 0 {
        guard let bytes = reads.exactly(pointers.controlPointer, Int(controlLength)) else { return .failure(Errno32(EFAULT)) }
        control = bytes
    }
    let (data, missing) = copyData(reads, entries, cap: dataCap(kind, budget: budget))
    return .success(CopiedMessage(address: address, data: data, missing: missing, control: control))
}

/// What is copied of one message's data: what its socket can send at most, and no more than is
/// left of the call's budget.
func dataCap(_ kind: SocketKind, budget: Int) -> Int {
    min(kind.udpFamily != nil ? MessageLimits.datagramCopy : MessageLimits.streamCopy, max(0, budget))
}

/// The entries of `sendmmsg(fd, vector, count, flags)`: `struct mmsghdr` each, read until
/// the first that cannot be (the kernel stops there and reports its error only if nothing was
/// sent). `msg_len` is written back at each entry's own address. The headers come in one read
/// (one system call for a batch, not one per entry); an entry that read did not reach whole is
/// read on its own, which fails as the kernel's read of it would.
func copyMessages(
    _ tid: pid_t, _ vector: UInt64, _ count: UInt64, _ kind: SocketKind
) -> Result<[CopiedMessage], Errno32> {
    let entries = min(Int(count & 0xffff_ffff), MessageLimits.vectors)  // unsigned int vlen, capped
    let stride = MemoryLayout<clandlock_mmsghdr>.stride
    let lengthOffset = UInt64(MemoryLayout<clandlock_mmsghdr>.offset(of: \clandlock_mmsghdr.msg_len)!)
    let (_, arrayOverflows) = vector.addingReportingOverflow(UInt64(entries * stride))
    let headerBytes = arrayOverflows ? [] : readRemotePrefix(tid, vector, entries * stride)
    let headers = (0..<headerBytes.count / stride).map { index in
        headerBytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * stride, as: clandlock_mmsghdr.self) }
    }
    // What the entries point to, fetched ahead: their names and iovec arrays in one system
    // call, then the data those iovecs describe in another (planned as if every read succeeds:
    // a range the plan missed is read when the copy asks for it).
    var reads = RemoteReads(tid: tid)
    let pointers = headers.map { MessagePointers($0.msg_hdr) }
    reads.prefetch(pointers.flatMap { [$0.nameRead, $0.vectorRead].compactMap { $0 } })
    var dataReads: [(address: UInt64, length: Int)] = []
    var planned = 0
    for message in pointers where dataReads.count < RemoteReads.rangeLimit {
        // Only from what was fetched: an iovec array left out is read when the copy gets to it.
        if let vector = message.vectorRead, reads.fetchedBytes(vector.address, vector.length) == nil { break }
        guard case .success(let entries) = message.vectors(reads) else { break }
        let ranges = plannedDataReads(entries, cap: dataCap(kind, budget: MessageLimits.callCopy - planned))
        dataReads += ranges
        planned += ranges.reduce(0) { $0 + $1.length }
    }
    reads.prefetch(dataReads)
    var messages: [CopiedMessage] = []
    var copied = 0
    for index in 0..<entries {
        let (entry, overflow) = vector.addingReportingOverflow(UInt64(index) &* UInt64(stride))
        let budget = MessageLimits.callCopy - copied
        let result: Result<CopiedMessage, Errno32> =
            index < headers.count
            ? copyMessage(reads, header: headers[index].msg_hdr, kind, budget: budget)
            : overflow ? .failure(Errno32(EFAULT)) : copyMessage(tid, entry, kind, budget: budget)
        switch result {
        case .success(var message):
            message.lengthAddress = entry &+ lengthOffset
            copied += message.data.count
            messages.append(message)
        case .failure(let error):
            if messages.isEmpty { return .failure(error) }
            return .success(messages)
        }
    }
    return .success(messages)
}
