// SPDX-License-Identifier: Apache-2.0
internal import CLandlock

extension SeccompError {
    /// Whether the child process was set up but `execve(2)` of the program failed; then
    /// ``underlyingError`` is the exec errno (`ENOENT`, `EACCES` when the sandbox denies the
    /// binary, its interpreter or its libraries...). Callers such as `landlock-exec` map it to
    /// the exit statuses 127 and 126, as `env(1)` does.
    public var failedToExecute: Bool { code == .spawnFailed && stage == Int32(CLANDLOCK_SPAWN_STAGE_EXEC) }
}
