// SPDX-License-Identifier: Apache-2.0
//
// Executors: threads in the sandboxed program's Landlock domain that perform the calls the
// supervisor makes for it on sockets other than UDP, so that the kernel checks them against
// the program's rules (TCP ports, socket-file rights, scopes). A domain thread restricts
// itself with the kernel part of the policy (and forks the program from there); the threads
// it starts inherit its domain. Calls go to a bounded pool of executors started on demand and
// kept: no call creates a thread, and no number of calls creates more than `poolSize`. Jobs
// that change their thread for good (taking another thread's credentials, another root) run
// on a thread of their own that ends with them.
internal import CLandlock
import SandboxSupport
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A thread in the sandboxed program's Landlock domain (without its seccomp filter). It
/// restricts itself with the kernel part of the policy, forks the program, then starts a
/// thread per job handed to ``run(_:)``, so that calls the supervisor performs on the
/// program's non-UDP sockets are checked by the kernel against the program's rules.
final class DomainThread: @unchecked Sendable {
    typealias Body = @Sendable () -> Void

    /// What an executor runs, and what answers the call instead when no thread can run it.
    struct Job {
        let body: Body
        let fail: Body
    }

    /// The most executors one domain keeps (blocking sends and connects hold one each).
    static let poolSize = 32
    /// The most calls waiting for an executor of one domain.
    static let queueLimit = 128
    /// How long the monitor waits for a nested sandbox's domain thread (milliseconds).
    static let nestedStartTimeout: Int64 = 5000

    private struct State {
        var queue: [Job] = []
        var isolated: [Job] = []
        var idle = 0
        var executors = 0
        var stopped = false
    }

    private let state = Mutex(State())
    /// The domain thread's requests: a byte per executor to start or isolated job to run.
    private let wake: (read: Int32, write: Int32)
    /// A byte per queued job, read by the executor that takes it.
    private let ready: (read: Int32, write: Int32)
    /// Flags the thread restricted itself with; nested domains use them too.
    private let ownFlags: UInt32

    private init(wake: (Int32, Int32), ready: (Int32, Int32), ownFlags: UInt32) {
        self.wake = wake
        self.ready = ready
        self.ownFlags = ownFlags
    }

    /// Starts the thread, restricts it, spawns the program from it (if there is a plan), and
    /// returns once the program has been exec'd (or failed to be). The thread's domain nests in
    /// the calling thread's.
    static func start(
        rulesetFD: Int32, ownFlags: UInt32, plan: SpawnPlan?,
        onListener: (@Sendable (DomainThread, Int32) -> Void)? = nil
    ) throws(SeccompError) -> (DomainThread, SpawnResult?) {
        var fds: [Int32] = [0, 0]
        var readyFDs: [Int32] = [0, 0]
        guard clandlock_pipe_cloexec(&fds) == 0 else {
            throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno))
        }
        guard clandlock_pipe_cloexec(&readyFDs) == 0 else {
            close(fds[0]); close(fds[1])
            throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno))
        }
        let thread = DomainThread(wake: (fds[0], fds[1]), ready: (readyFDs[0], readyFDs[1]), ownFlags: ownFlags)
        let outcome = Mutex<Result<SpawnResult?, SeccompError>?>(nil)
        var done: [Int32] = [0, 0]
        guard clandlock_pipe_cloexec(&done) == 0 else {
            throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno))
        }
        defer { close(done[0]) }
        let doneWrite = done[1]
        let started = startDetachedThread {
            _ = clandlock_block_all_signals()
            let result: Result<SpawnResult?, SeccompError>
            if let plan, plan.dropCapabilities != 0, clandlock_drop_capabilities(plan.dropCapabilities) != 0 {
                // The executors act for the program: they must not hold what it was denied.
                result = .failure(SeccompError(.spawnFailed, "Failed to drop capabilities on the supervisor's domain thread", errno: Errno(rawValue: errno)))
            } else if clandlock_set_no_new_privs() != 0 {
                result = .failure(SeccompError(.spawnFailed, "Failed to set no_new_privs on the supervisor's domain thread", errno: Errno(rawValue: errno)))
            } else if rulesetFD >= 0 && clandlock_restrict_self(rulesetFD, ownFlags) != 0 {
                result = .failure(SeccompError(.spawnFailed, "Failed to restrict the supervisor's domain thread", errno: Errno(rawValue: errno)))
            } else {
                do throws(SeccompError) { result = .success(try plan.map { plan throws(SeccompError) in
                        // The child inherits this thread's credentials and no_new_privs: done.
                        var inherited = plan
                        inherited.dropCapabilities = 0
                        inherited.setNoNewPrivileges = false
                        return try spawn(inherited) { listener in onListener?(thread, listener) }
                    }) } catch { result = .failure(error) }
            }
            outcome.withLock { $0 = result }
            close(doneWrite)
            if case .success = result { thread.loop() }
        }
        guard started else {
            close(doneWrite)
            throw SeccompError(.spawnFailed, "Failed to start the supervisor's domain thread")
        }
        var byte: UInt8 = 0
        while read(done[0], &byte, 1) < 0 && errno == EINTR {}
        switch outcome.withLock({ $0 })! {
        case .success(let result): return (thread, result)
        case .failure(let error): throw error
        }
    }

    /// A domain thread in this domain restricted further with `rulesetFD` (-1: no further
    /// layer): executors for a nested sandbox registered with the supervisor.
    func nested(rulesetFD: Int32) throws(SeccompError) -> DomainThread {
        let outcome = Mutex<Result<DomainThread, SeccompError>?>(nil)
        var done: [Int32] = [0, 0]
        guard clandlock_pipe_cloexec(&done) == 0 else {
            throw SeccompError(.spawnFailed, "Failed to create a pipe", errno: Errno(rawValue: errno))
        }
        defer { close(done[0]) }
        let doneWrite = done[1]
        let flags = ownFlags
        run({
            let result: Result<DomainThread, SeccompError>
            do throws(SeccompError) {
                result = .success(try DomainThread.start(rulesetFD: rulesetFD, ownFlags: flags, plan: nil).0)
            } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            close(doneWrite)
        }, orElse: { close(doneWrite) })
        // The monitor waits here: bounded, so that a program that exhausted the threads (no
        // executor can start) fails its registration instead of freezing the supervisor.
        var ready = pollfd(fd: done[0], events: Int16(POLLIN), revents: 0)
        let deadline = MonotonicClock.milliseconds + Self.nestedStartTimeout
        while poll(&ready, 1, Int32(max(0, deadline - MonotonicClock.milliseconds))) < 0 && errno == EINTR {}
        switch outcome.withLock({ $0 }) {
        case .success(let thread): return thread
        case .failure(let error): throw error
        case nil: throw SeccompError(.spawnFailed, "Failed to start a nested domain thread")
        }
    }

    /// Runs `body` on an executor of the domain: a pooled one, or with `isolated`, a thread of
    /// its own that ends with the job (for a job that changes its thread for good). Where no
    /// thread can be started (the program exhausted them), `fail` runs instead, on whichever
    /// thread finds out: it must only answer the call. A job never runs on the domain thread.
    func run(isolated: Bool = false, _ body: @escaping Body, orElse fail: @escaping Body) {
        let job = Job(body: body, fail: fail)
        var refused = false
        let startExecutor = state.withLock { state -> Bool in
            if isolated {
                state.isolated.append(job)
                return false
            }
            // Every waiting call holds descriptors and copied data: a bounded queue, so that a
            // program keeping calls blocked cannot exhaust the supervisor.
            guard state.queue.count < Self.queueLimit else {
                refused = true
                return false
            }
            state.queue.append(job)
            guard state.idle == 0, state.executors < Self.poolSize else { return false }
            state.executors += 1
            return true
        }
        if refused { return fail() }
        var byte: UInt8 = 1
        if isolated || startExecutor { _ = write(wake.write, &byte, 1) }
        if !isolated { _ = write(ready.write, &byte, 1) }
    }

    /// Ends the domain thread and its executors once the supervisor is done (jobs already
    /// queued still run).
    func stop() {
        let executors = state.withLock { state -> Int in
            state.stopped = true
            return state.executors
        }
        close(wake.write)
        // One byte per executor past the queued jobs: each wakes to find nothing and ends.
        var byte: UInt8 = 0
        for _ in 0..<executors { _ = write(ready.write, &byte, 1) }
    }

    /// The domain thread: starts executors and isolated jobs (they inherit its domain).
    private func loop() {
        defer { close(wake.read) }
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(wake.read, $0.baseAddress, 64) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            let isolated = state.withLock { state -> [Job] in defer { state.isolated = [] }; return state.isolated }
            for job in isolated where !startDetachedThread(job.body) { job.fail() }
            let executors = state.withLock { $0.executors }
            // Every executor the counters promised and that is not running yet.
            while started < executors {
                started += 1
                if !startDetachedThread({ [self] in executorLoop() }) {
                    started -= 1
                    // None could start: fail what waits if no executor is left to take it.
                    let orphans = state.withLock { state -> [Job] in
                        state.executors -= 1
                        guard state.executors == 0 else { return [] }
                        defer { state.queue = [] }
                        return state.queue
                    }
                    for job in orphans { job.fail() }
                    break
                }
            }
        }
    }

    private var started = 0

    deinit {
        close(ready.read)
        close(ready.write)
    }

    /// An executor: takes queued jobs until the domain stops.
    private func executorLoop() {
        _ = clandlock_block_all_signals()
        while true {
            state.withLock { $0.idle += 1 }
            var byte: UInt8 = 0
            var count = read(ready.read, &byte, 1)
            while count < 0 && errno == EINTR { count = read(ready.read, &byte, 1) }
            let job = state.withLock { state -> Job? in
                state.idle -= 1
                return state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            guard let job else {
                if count <= 0 || state.withLock({ $0.stopped }) { return }
                continue
            }
            job.body()
        }
    }
}
