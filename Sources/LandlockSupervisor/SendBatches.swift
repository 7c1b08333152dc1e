// SPDX-License-Identifier: Apache-2.0
//
// What a batch of sends (sendmmsg) keeps between its messages: whether a send of ours bound
// the socket (so that its bound state is read once, not per message), and the msg_len fields
// to write back (in two system calls for the batch, not one per message).
#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket a send of ours bound, with the number of UDP connects at that moment (see
/// `Supervisor.udpLock`); `nil` until then.
struct BoundSince {
    var connects: UInt64? = nil
}

/// sendmmsg's `msg_len` fields. Before sending, the values the program left are written back
/// unchanged, in one call: that learns how many fields can be written, for the kernel sends an
/// entry and then stops if its `msg_len` cannot be written (not counting it; EFAULT if nothing
/// was counted). The lengths of the datagrams sent are written in one call when the batch ends
/// or moves to an executor. (A program that rewrites `msg_len` of a batch in flight may see its
/// value restored.)
struct LengthWriteBack {
    let tid: pid_t
    /// The fields of this run's entries, from `start` on.
    private let addresses: [UInt64]
    private let start: Int
    /// How many of them, from the first, the probe could write.
    private let writable: Int
    /// Entries counted: those of earlier runs of this batch, and those sent since.
    private(set) var counted: Int
    /// Lengths to write, from entry `start + settled` on.
    private var pending: [UInt32] = []
    private var settled = 0
    /// An entry was sent whose `msg_len` could not be written: the batch ended there.
    private var faulted = false

    init(_ messages: ArraySlice<CopiedMessage>, tid: pid_t, counted: Int) {
        self.tid = tid
        addresses = messages.map(\.lengthAddress)
        start = messages.startIndex
        self.counted = counted
        writable = writeRemoteWords(tid, addresses, messages.map(\.originalLength))
    }

    /// Entry `index` was sent with `length` bytes: whether it counts (its `msg_len` can be
    /// written); if not, the batch ends.
    mutating func count(_ index: Int, length: Int64) -> Bool {
        guard index - start < writable else {
            faulted = true
            return false
        }
        pending.append(UInt32(truncatingIfNeeded: length))
        counted += 1
        return true
    }

    /// Writes the pending lengths; false if some could not be (the memory went away since the
    /// probe): the batch ends at the first of them, which does not count.
    mutating func settle() -> Bool {
        guard !pending.isEmpty else { return !faulted }
        let done = writeRemoteWords(tid, Array(addresses[settled..<settled + pending.count]), pending)
        if done < pending.count {
            counted -= pending.count - done
            faulted = true
        }
        settled += done
        pending.removeAll()
        return !faulted
    }

    /// The reply of a batch that ends here, after an error (`ending`) or not.
    mutating func batchResult(ending error: Int32?) -> Outcome {
        _ = settle()
        if counted == 0, faulted || error != nil { return .error(faulted ? EFAULT : error!) }
        return .value(Int64(counted))
    }
}
