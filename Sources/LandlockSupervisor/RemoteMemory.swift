// SPDX-License-Identifier: Apache-2.0
//
// The system calls that read and write the program's memory (process_vm_readv and
// process_vm_writev): one range, a prefix up to the first unreadable page, or many ranges in
// one call. What is read is untrusted (see ProgramMemory.swift).
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

/// Copies up to `length` bytes from `address`: all of them, or those before the first
/// unreadable page.
func readRemotePrefix(_ tid: pid_t, _ address: UInt64, _ length: Int) -> [UInt8] {
    guard length > 0, address != 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: length)
    let copied = buffer.withUnsafeMutableBytes { clandlock_read_memory_prefix(tid, address, $0.baseAddress!, length) }
    return copied == length ? buffer : Array(buffer[0..<max(0, copied)])
}

/// The reads of one call's arguments from the program's memory, some of them done ahead in
/// one system call (`prefetch`): a sendmmsg batch costs a few system calls, not a few per
/// entry. A read asks for a range; one fetched ahead whole is served from the copy, any other
/// is read then. Fetching ahead changes when memory is read, not what a read returns: the
/// arguments are copied before the call is performed either way.
struct RemoteReads {
    let tid: pid_t
    private var chunks: [[UInt8]] = []
    /// Address -> where its copy is (chunk, offset) and how many bytes were fetched.
    private var fetched: [UInt64: (chunk: Int, offset: Int, length: Int)] = [:]

    init(tid: pid_t) { self.tid = tid }

    /// How many ranges one prefetch takes at most: what it keeps per range (its place in the
    /// copy) must stay small next to the bytes copied, whatever the program describes (1,024
    /// entries of 1,024 one-byte iovecs are a million ranges). The rest are read when asked for.
    static let rangeLimit = 4096

    /// Fetches these ranges now, in one system call; a range the call does not reach whole is
    /// read when it is asked for. Stops adding ranges past `limit` bytes or `rangeLimit` ranges.
    mutating func prefetch(_ ranges: [(address: UInt64, length: Int)], limit: Int = MessageLimits.callCopy) {
        var addresses: [UInt64] = []
        var lengths: [UInt64] = []
        var total = 0
        for range in ranges where range.length > 0 && range.address != 0 && isUserRange(range.address, UInt64(range.length)) {
            if let known = fetched[range.address], known.length >= range.length { continue }
            guard total + range.length <= limit, addresses.count < Self.rangeLimit else { break }
            addresses.append(range.address)
            lengths.append(UInt64(range.length))
            total += range.length
        }
        guard !addresses.isEmpty else { return }
        var chunk = [UInt8](repeating: 0, count: total)
        let got = chunk.withUnsafeMutableBytes { local in
            addresses.withUnsafeBufferPointer { remote in
                lengths.withUnsafeBufferPointer { clandlock_read_scatter(tid, remote.baseAddress!, $0.baseAddress!, remote.count, local.baseAddress!) }
            }
        }
        var offset = 0
        for (address, length) in zip(addresses, lengths.map { Int($0) }) {
            guard offset + length <= got else { break }
            fetched[address] = (chunks.count, offset, length)
            offset += length
        }
        chunks.append(chunk)
    }

    /// The copy of `count` bytes at `address` if they were fetched, `nil` otherwise.
    func fetchedBytes(_ address: UInt64, _ count: Int) -> [UInt8]? {
        guard let slot = fetched[address], slot.length >= count else { return nil }
        return Array(chunks[slot.chunk][slot.offset..<slot.offset + count])
    }

    /// Exactly `count` bytes, or `nil` (EFAULT): as `readRemote`.
    func exactly(_ address: UInt64, _ count: Int) -> [UInt8]? {
        if count > 0, address != 0, let bytes = fetchedBytes(address, count) { return bytes }
        return readRemote(tid, address, count)
    }

    /// Up to `length` bytes, those before the first unreadable page: as `readRemotePrefix`.
    func prefix(_ address: UInt64, _ length: Int) -> [UInt8] {
        if length > 0, address != 0, let bytes = fetchedBytes(address, length) { return bytes }
        return readRemotePrefix(tid, address, length)
    }
}
