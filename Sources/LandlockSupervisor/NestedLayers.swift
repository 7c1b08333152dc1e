// SPDX-License-Identifier: Apache-2.0
//
// Nested sandboxes under one supervisor. A second seccomp listener cannot be installed under
// the first (EBUSY), so a sandbox started inside a supervised one registers its layer with
// the supervisor that already serves the tree instead (Proposals/0001, "Nested sandboxes"):
//
// - An *anchor* process (`clandlock_spawn_nested`) restricts itself with the nested layer,
//   registers it with `connect(-1, record, CLANDLOCK_NEST_REGISTER)` (intercepted here; the
//   kernel would answer EBADF), then forks the program. It is a child subreaper: while it
//   lives, its descendants are exactly the tasks of the nested Landlock domain (tasks are
//   only created by fork, domains are inherited and never left, and orphans of the subtree
//   reparent to the anchor). Membership is read from the process tree, never from the
//   program.
// - Its members' UDP calls are decided against every layer on their chain; their other socket
//   calls run on executor threads of a *mirror* domain: a domain thread restricted with the
//   outer layers and the nested layer's own kernel ruleset (taken from the anchor with
//   pidfd_getfd), so the kernel checks TCP rules, socket-file rights and scopes of both.
// - The anchor retires the layer (`CLANDLOCK_NEST_RETIRE`) once it has no descendant left. If
//   it dies otherwise (SIGKILL), its orphans can no longer be told from other processes of
//   the enclosing layer: every task of that layer not classified before then is refused
//   (EACCES) for every intercepted call. Fail closed.
internal import CLandlock
import SandboxSupport
import Landlock
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One registered nested sandbox.
final class NestedLayer: @unchecked Sendable {
    /// The anchor process (tgid).
    let anchor: pid_t
    /// A pidfd of the anchor, opened while its registration call was pending: the anchor's
    /// identity for the layer's life. A pid number names whichever process holds it now; this
    /// names the anchor, and says when it has exited (readable), even once the pid is reused.
    let anchorPidfd: Int32
    /// `/proc/<anchor>`, opened while the anchor was known alive: names that process even if
    /// its pid is reused (files opened through it then fail with ESRCH).
    let procDirectory: Int32
    let parent: NestedLayer?
    /// What applies to the members' calls: every UDP layer of their chain (the sandbox's, the
    /// enclosing nested ones', this one's) with its denial log, and the mirror domain whose
    /// executors perform their other socket calls.
    let context: CallContext

    init(anchor: pid_t, anchorPidfd: Int32, procDirectory: Int32, parent: NestedLayer?, context: CallContext) {
        self.anchor = anchor
        self.anchorPidfd = anchorPidfd
        self.procDirectory = procDirectory
        self.parent = parent
        self.context = context
    }

    /// Whether the anchor is alive and not exiting. `PF_EXITING` (field 9 of `stat`) is set at
    /// the start of `do_exit`, before the anchor's children are reparented, so a task whose
    /// parent chain was read before this returns `true` was read inside the anchor's subtree.
    var isAlive: Bool {
        var entry = pollfd(fd: anchorPidfd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 0 else { return false }
        let fd = openat(procDirectory, "stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1024)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1024) }
        guard count > 0, let close = bytes[0..<count].lastIndex(of: UInt8(ascii: ")")) else { return false }
        // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags.
        let fields = bytes[(close + 1)..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 6, let flags = UInt64(decimal: fields[6]) else { return false }
        let processExiting: UInt64 = 0x4  // PF_EXITING
        return flags & processExiting == 0
    }

    deinit {
        close(anchorPidfd)
        close(procDirectory)
    }
}

/// Which layers apply to a task.
enum Membership {
    /// The sandbox's own layer only.
    case sandbox
    case nested(NestedLayer)
}

/// The nested layers of one supervisor. Monitor thread only. A layer lives until its anchor
/// retires it; a layer whose anchor died without retiring stays, failing closed, for good.
struct NestedLayerRegistry {
    static let maximumLayers = 64
    /// At most this many fs.resolve_unix rules per registered layer.
    static let maximumRules = UnixPathLayer.nestedPinBudget

    private(set) var live: [NestedLayer] = []
    private var byAnchor: [pid_t: NestedLayer] = [:]

    /// The live layer whose anchor is process `process`, only while that anchor is alive (a
    /// process that took a dead anchor's pid is not it).
    func layer(anchoredBy process: pid_t) -> NestedLayer? {
        guard let layer = byAnchor[process] else { return nil }
        var entry = pollfd(fd: layer.anchorPidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0 ? layer : nil
    }

    /// Whether a layer was ever registered for pid `process` and not retired (its anchor may
    /// be dead: then the pid cannot anchor another layer).
    func hasLayer(at process: pid_t) -> Bool { byAnchor[process] != nil }

    mutating func add(_ layer: NestedLayer) {
        live.append(layer)
        byAnchor[layer.anchor] = layer
    }

    /// Ends a layer whose anchor has no descendant left.
    mutating func retire(_ layer: NestedLayer) {
        live.removeAll { $0 === layer }
        byAnchor[layer.anchor] = nil
        layer.context.domain.stop()
    }

    /// The layers that apply to process `process`, or `nil` when that cannot be known (the
    /// process is gone, or a nested layer's anchor died while the process may have been its
    /// descendant).
    func membership(ofProcess process: pid_t, supervisorProcess: pid_t) -> Membership? {
        if live.isEmpty { return .sandbox }
        guard let found = innermostAnchor(above: process, stopAt: supervisorProcess) else { return nil }
        // A dead anchor of the answer or of a layer directly in it: the process may be one of
        // its orphans (they reparent to a subreaper above the anchor, inside the enclosing
        // layer), which the walk above cannot recognize.
        for layer in live where (layer === found || layer.parent === found) && !layer.isAlive { return nil }
        return found.map { .nested($0) } ?? .sandbox
    }

    /// Walks the parent chain from `process` up to the supervisor's process (or init) and
    /// returns the first registered anchor met: `.some(nil)` for none, `nil` when the chain
    /// kept changing under the walk. Each link is read twice (the child's parent before and
    /// after reading the parent), so a parent that exited and whose pid was reused meanwhile
    /// is never followed.
    private func innermostAnchor(above process: pid_t, stopAt supervisorProcess: pid_t) -> NestedLayer?? {
        attempts: for _ in 0..<8 {
            var child = process
            guard var parent = parentProcess(of: child) else { return nil }
            for _ in 0..<65536 {
                if let layer = byAnchor[child] { return .some(layer) }
                if parent <= 1 || parent == supervisorProcess { return .some(nil) }
                guard let grandparent = parentProcess(of: parent), parentProcess(of: child) == parent else {
                    continue attempts
                }
                child = parent
                parent = grandparent
            }
            return nil
        }
        return nil
    }
}

extension UDPLayer {
    /// Every port its rules name, with the UDP rights allowed there (the registration form).
    var ports: [(port: UInt16, access: NetworkAccess)] {
        bindPorts.union(connectSendPorts).sorted().map { port in
            var access: NetworkAccess = []
            if bindPorts.contains(port) { access.insert(.bindUDP) }
            if connectSendPorts.contains(port) { access.insert(.connectSendUDP) }
            return (port, access)
        }
    }
}

extension Supervisor {
    /// `connect(-1, record, CLANDLOCK_NEST_REGISTER)` or `(-1, NULL, CLANDLOCK_NEST_RETIRE)`.
    func isNestCall(_ n: Notification) -> Bool {
        n.nr == numbers.connect && Int32(truncatingIfNeeded: n.args[0]) == -1
            && [CLANDLOCK_NEST_REGISTER, CLANDLOCK_NEST_RETIRE].contains(UInt32(truncatingIfNeeded: n.args[2]))
    }

    func handleNestCall(_ n: Notification) {
        guard let process = threadGroup(of: n.tid) else { return reply(n.id, .error(ESRCH)) }
        if UInt32(truncatingIfNeeded: n.args[2]) == CLANDLOCK_NEST_RETIRE {
            // Only the anchor itself, alive: `layer(anchoredBy:)` checks the anchor's pidfd, and
            // the caller (`process`, read while its call is pending, checked below) is that
            // process while the pidfd says it lives. A dead anchor's layer is never retired.
            guard let layer = nested.layer(anchoredBy: process), isValid(n.id) else { return reply(n.id, .error(EINVAL)) }
            nested.retire(layer)
            threads.forgetMemberships { membership in
                if case .nested(let member) = membership { return member === layer }
                return false
            }
            return reply(n.id, .value(0))
        }
        if n.args[1] == 0 { return reply(n.id, .value(Int64(CLANDLOCK_NEST_VERSION_ANSWER))) }  // "Do you take registrations?"
        reply(n.id, register(n, process: process))
    }

    private func register(_ n: Notification, process: pid_t) -> Outcome {
        guard let header = readRemote(n.tid, n.args[1], MemoryLayout<clandlock_nest_record>.size) else {
            return .error(EFAULT)
        }
        let record = header.withUnsafeBytes { $0.loadUnaligned(as: clandlock_nest_record.self) }
        let count = Int(record.port_count)
        let unixCount = Int(record.unix_count)
        guard record.version == CLANDLOCK_NEST_VERSION, count <= 65536, unixCount <= NestedLayerRegistry.maximumRules
        else { return .error(EINVAL) }
        let portSize = MemoryLayout<clandlock_nest_port>.size
        guard let entries = readRemote(n.tid, record.ports, count * portSize) else { return .error(EFAULT) }
        var bind: Set<UInt16> = []
        var connect: Set<UInt16> = []
        entries.withUnsafeBytes { bytes in
            for index in 0..<count {
                let port = bytes.loadUnaligned(fromByteOffset: index * portSize, as: clandlock_nest_port.self)
                let access = NetworkAccess(rawValue: UInt64(port.access))
                if access.contains(.bindUDP) { bind.insert(port.port) }
                if access.contains(.connectSendUDP) { connect.insert(port.port) }
            }
        }
        guard !nested.hasLayer(at: process) else { return .error(EBUSY) }
        guard nested.live.count < NestedLayerRegistry.maximumLayers else { return .error(EAGAIN) }
        let pidfd = clandlock_pidfd_open(process, 0)
        guard pidfd >= 0 else { return .error(ESRCH) }
        var keepPidfd = false
        defer { if !keepPidfd { close(pidfd) } }
        let procDirectory = open("/proc/\(process)", oPath | O_DIRECTORY | O_CLOEXEC)
        guard procDirectory >= 0 else { return .error(ESRCH) }
        // The calling thread still waits: the pid, the pidfd and the directory are its process's.
        guard isValid(n.id) else { close(procDirectory); return .error(ESRCH) }
        guard let threadRecord = threads.record(of: n.tid, isWaiting: { isValid(n.id) }),
            let membership = membership(of: n.tid, threadRecord)
        else {
            close(procDirectory)
            return .error(EACCES)
        }
        let parent: NestedLayer? = if case .nested(let layer) = membership { layer } else { nil }
        var ruleset: Int32 = -1
        if record.ruleset_fd >= 0 {
            ruleset = clandlock_pidfd_getfd(pidfd, record.ruleset_fd, 0)
            guard ruleset >= 0 else { close(procDirectory); return .error(EBADF) }
        }
        defer { Closer.close(ruleset, mayWait: true) }  // The program chose what stands at that number.
        // The layer's fs.resolve_unix rules: the anchor's descriptors of their paths.
        var unixLayer: UnixPathLayer? = nil
        if record.unix_handled != 0 {
            guard let numbers = unixCount == 0 ? [] : readRemote(n.tid, record.unix_fds, unixCount * 4) else {
                close(procDirectory)
                return .error(EFAULT)
            }
            let fds = (0..<unixCount).map { index in
                numbers.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: Int32.self) }
            }
            guard let layer = UnixPathLayer(taking: fds, from: pidfd) else { close(procDirectory); return .error(EAGAIN) }
            unixLayer = layer
        }
        var log: Int32 = -1
        if record.log_fd >= 0 {
            log = clandlock_pidfd_getfd(pidfd, record.log_fd, 0)
            guard log >= 0 else { close(procDirectory); return .error(EBADF) }
        }
        let domain: DomainThread
        do throws(SeccompError) {
            domain = try (parent?.context.domain ?? self.domain).nested(rulesetFD: ruleset)
        } catch {
            close(procDirectory)
            Closer.close(log, mayWait: true)
            return .error(error.underlyingError?.rawValue ?? EPERM)
        }
        let layer = UDPLayer(handled: NetworkAccess(rawValue: UInt64(record.handled)), bindPorts: bind, connectSendPorts: connect)
        let enclosing = parent?.context ?? rootContext
        // A layer that handles no UDP right is left out of the policy (it cannot deny).
        let policy = UDPPolicy(layers: enclosing.policy.layers + [layer])
        var denials = enclosing.denials
        if policy.layers.count > enclosing.policy.layers.count {
            denials.append(log >= 0 ? DenialSink(log: .fileDescriptor(log), ownsDescriptor: true) : nil)
        } else {
            Closer.close(log, mayWait: true)
        }
        keepPidfd = true
        nested.add(
            NestedLayer(
                anchor: process, anchorPidfd: pidfd, procDirectory: procDirectory, parent: parent,
                context: CallContext(
                    policy: policy, domain: domain, denials: denials,
                    unixPaths: enclosing.unixPaths.map { $0.nesting(unixLayer) }
                        ?? unixLayer.map {
                            UnixPathRules(layers: [$0], sockets: sandboxSockets, descriptors: lookupDescriptors)
                        })))
        threads.forget(n.tid)  // classified before it registered: now a member
        return .value(0)
    }

    /// The layers that apply to the thread of `record` (`tid`); `nil`: unknown, refuse the call.
    func membership(of tid: pid_t, _ record: ThreadTable.Record) -> Membership? {
        if nested.live.isEmpty { return .sandbox }
        if let known = record.membership { return known }
        guard let found = nested.membership(ofProcess: record.facts.process, supervisorProcess: supervisorProcess)
        else { return nil }
        threads.setMembership(found, of: tid)
        return found
    }

    /// Policy and executor domain for a call of the thread of `record`; `nil`: refuse the call
    /// (EACCES).
    func context(of tid: pid_t, _ record: ThreadTable.Record) -> CallContext? {
        switch membership(of: tid, record) {
        case .sandbox: rootContext
        case .nested(let layer): layer.context
        case nil: nil
        }
    }
}
