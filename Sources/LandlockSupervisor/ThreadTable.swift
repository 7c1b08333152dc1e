// SPDX-License-Identifier: Apache-2.0
//
// What the supervisor remembers of the program's threads between their calls: their
// credentials and process (ThreadFacts) and which nested layers apply to them (Membership).
// Reading them costs about 15 µs (/proc), a trapped call a few: remembering is what keeps
// calls cheap. Three rules make it safe against a program that controls its thread ids:
//
// 1. A record holds a PIDFD_THREAD pidfd opened while the thread's notification was pending,
//    so it names that thread. It is used only while that pidfd says the thread is alive
//    (poll: not readable), when the thread id still names the same thread.
// 2. What a thread can change about itself is forgotten when it starts to: the filter sends
//    the calls that change credentials (setuid and its relatives, setgroups, capset, unshare,
//    setns) and execve to the supervisor, which drops the record before letting them run
//    (CONTINUE: nothing is decided on them). A thread other than the leader that calls execve
//    takes the leader's thread id if it succeeds, so the leader's id is not remembered until
//    that thread's old identity is gone.
// 3. The table is bounded, and dead threads are pruned (one poll over every pidfd) before
//    anything is evicted: no number of past threads degrades service, and a pidfd that cannot
//    be opened (EMFILE) costs that one call its record, not later calls.
//
// Kernels before 6.9 have no PIDFD_THREAD: nothing is remembered, every call reads afresh.
internal import CLandlock

#if canImport(Glibc)
import Glibc
#endif

struct ThreadTable {
    struct Record {
        /// PIDFD_THREAD; -1 when the record is not kept.
        let pidfd: Int32
        let facts: ThreadFacts
        /// Which layers apply; `nil` until asked (nested sandboxes only).
        var membership: Membership?
    }

    static let capacity = 256

    let threadPidfds: Bool
    private var records: [pid_t: Record] = [:]
    /// Process -> PIDFD_THREADs of its threads (not the leader) that called execve and may
    /// still take the leader's id. Every one is kept: one that is still alive blocks
    /// remembering the leader, whatever others did.
    private var pendingExecs: [pid_t: [Int32]] = [:]

    init(threadPidfds: Bool) {
        self.threadPidfds = threadPidfds
    }

    /// The record of thread `tid`, whose notification `isWaiting` checks; `nil` when the thread
    /// is gone or its facts cannot be read.
    mutating func record(of tid: pid_t, isWaiting: () -> Bool) -> Record? {
        if let record = records[tid] {
            if isAlive(record.pidfd) { return record }
            forget(tid)
        }
        // The pidfd first, so the facts read after it are the thread's it names.
        var pidfd: Int32 = threadPidfds && mayRemember(tid) ? openThreadPidfd(tid) : -1
        guard let facts = ThreadFacts(thread: tid), isWaiting() else {
            if pidfd >= 0 { close(pidfd) }
            return nil
        }
        if pidfd >= 0 && !mayRemember(tid, process: facts.process) {
            close(pidfd)
            pidfd = -1
        }
        let record = Record(pidfd: pidfd, facts: facts)
        if pidfd >= 0 { records[tid] = record }
        return record
    }

    /// The record of `tid` if one is kept, *not* checked: the caller proves the thread alive
    /// by using the record's pidfd (pidfd_getfd fails with ESRCH once the thread is gone).
    func remembered(_ tid: pid_t) -> Record? { records[tid] }

    mutating func setMembership(_ membership: Membership, of tid: pid_t) {
        records[tid]?.membership = membership
    }

    /// Forgets what is known of thread `tid` (it is about to change its credentials).
    mutating func forget(_ tid: pid_t) {
        if let record = records.removeValue(forKey: tid), record.pidfd >= 0 { close(record.pidfd) }
    }

    /// Forgets every thread of `process`, whose thread `tid` calls execve (monitor: the call is
    /// still pending, so `tid` names that thread).
    mutating func forgetProcess(_ process: pid_t, execingThread tid: pid_t) {
        for (key, record) in records where record.facts.process == process { forget(key) }
        forget(tid)
        guard tid != process, threadPidfds else { return }
        let pidfd = openThreadPidfd(tid)
        // Without a pidfd to watch the exec, the leader is never remembered again: each of its
        // calls reads its facts afresh (fail safe).
        pendingExecs[process, default: []].append(pidfd >= 0 ? pidfd : -1)
    }

    /// Forgets the memberships `shouldForget` selects (a nested layer retired).
    mutating func forgetMemberships(where shouldForget: (Membership) -> Bool) {
        for (key, record) in records {
            if let membership = record.membership, shouldForget(membership) { records[key]?.membership = nil }
        }
    }

    mutating func removeAll() {
        for record in records.values where record.pidfd >= 0 { close(record.pidfd) }
        for pidfd in pendingExecs.values.joined() where pidfd >= 0 { close(pidfd) }
        records.removeAll()
        pendingExecs.removeAll()
    }

    // MARK: Private

    /// Whether a record of `tid` may be kept: not while `tid` is the leader of a process whose
    /// other thread's execve may still hand it the leader's id.
    private mutating func mayRemember(_ tid: pid_t, process: pid_t? = nil) -> Bool {
        let leader = process ?? tid
        guard leader == tid, let pending = pendingExecs[leader] else { return true }
        let alive = pending.filter { $0 < 0 || isAlive($0) }
        for pidfd in pending where pidfd >= 0 && !alive.contains(pidfd) { close(pidfd) }
        pendingExecs[leader] = alive.isEmpty ? nil : alive
        return alive.isEmpty
    }

    /// A PIDFD_THREAD pidfd for `tid`, making room first if the table is full; -1 if none.
    private mutating func openThreadPidfd(_ tid: pid_t) -> Int32 {
        if records.count >= Self.capacity { prune() }
        var pidfd = clandlock_pidfd_open(tid, UInt32(O_EXCL))  // PIDFD_THREAD
        if pidfd < 0 && (errno == EMFILE || errno == ENFILE) {
            prune(evictingHalf: true)
            pidfd = clandlock_pidfd_open(tid, UInt32(O_EXCL))
        }
        return pidfd
    }

    /// Drops the records of threads that are gone; with `evictingHalf`, or if that freed less
    /// than a quarter, half of the others too.
    private mutating func prune(evictingHalf: Bool = false) {
        var polled = records.map { pollfd(fd: $0.value.pidfd, events: Int16(POLLIN), revents: 0) }
        let keys = Array(records.keys)
        _ = poll(&polled, nfds_t(polled.count), 0)
        for (index, entry) in polled.enumerated() where entry.revents != 0 { forget(keys[index]) }
        for process in pendingExecs.keys { _ = mayRemember(process) }
        if evictingHalf || records.count > Self.capacity * 3 / 4 {
            for key in records.keys.prefix(records.count / 2) { forget(key) }
        }
    }

    private func isAlive(_ pidfd: Int32) -> Bool {
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }
}
