// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// `--log-denials` beyond UDP: checks what the supervisor observes the command doing
/// (``Observation``s) against the policy, as Landlock will, and words each denial as Landlock's
/// audit record plus the option that would allow it (the log adds `landlock: `):
/// `blockers=fs.read_file path=/root/.gitconfig (allowed by --ro /root/.gitconfig)`.
///
/// The kernel's own audit records (ABI 7) are not read: reading them takes CAP_AUDIT_READ and
/// an audit subsystem that is switched on, and they would come from another process's
/// netlink socket. This check works unprivileged, but it is a model of the kernel's: paths are
/// compared after resolving symbolic links (the kernel compares the inodes the rules were
/// opened on, so bind mounts can differ), and a file the command creates is judged on its
/// directory's `make_*` right only. Only the rights someone enforces here are checked (the
/// kernel, or the supervisor for `fs.resolve_unix` before ABI 9); UDP denials are logged by
/// the supervisor itself (which decides them), so they are left out here unless the kernel
/// enforces UDP.
struct DenialExplainer: Sendable {
    let rules: [(path: String, access: FileSystemAccess)]
    let handledFileSystem: FileSystemAccess
    let ports: [Int: NetworkAccess]
    let handledNetwork: NetworkAccess
    let scopes: Scope

    /// `enforcer`: who enforces a right here (the sandbox's ``EnforcementPlan``); `resolve`: a
    /// rule's path as the kernel will see it.
    init(policy: SandboxPolicy, enforcer: (AccessRight) -> Enforcer?, resolve: (String) -> String?) {
        rules = policy.paths.compactMap { grant in resolve(grant.path).map { ($0, grant.access) } }
        func checked(_ right: AccessRight) -> Bool {
            switch enforcer(right) {
            case .kernel?: true
            // The supervisor logs the UDP calls it denies itself.
            case .supervisor?: right.kind == .fileSystem
            default: false
            }
        }
        func union<Bits: LandlockBitmask>(_ bits: Bits) -> Bits {
            bits.accessRights.filter(checked).reduce(into: Bits()) { $0.formUnion(Bits($1)!) }
        }
        handledFileSystem = union(policy.explicitFileSystem.union(policy.implicitFileSystem))
        var ports: [Int: NetworkAccess] = [:]
        for grant in policy.ports { ports[grant.port, default: []].formUnion(grant.access) }
        self.ports = ports
        handledNetwork = union(policy.explicitNetwork.union(policy.implicitNetwork))
        scopes = union(policy.explicitScopes.union(policy.implicitScopes))
    }

    /// The denial lines of one observation (none when the policy allows it).
    func lines(for observation: Observation) -> [String] {
        switch observation.subject {
        case .path(let path, let access):
            // A creation is judged on its directory's make_* right (a separate observation).
            guard !observation.created else { return [] }
            var allowed: FileSystemAccess = []
            for rule in rules where path == rule.path || rule.path == "/" || path.hasPrefix(rule.path + "/") {
                allowed.formUnion(rule.access)
            }
            let denied = access.intersection(handledFileSystem).subtracting(allowed)
            guard !denied.isEmpty else { return [] }
            let option: String
            if !denied.subtracting([.readFile, .readDir, .execute]).isEmpty {
                option = denied.contains(.execute) ? "--rwx" : "--rw"
            } else {
                option = denied.contains(.execute) ? "--rox" : "--ro"
            }
            return ["blockers=\(denied.auditNames.joined(separator: ",")) path=\(path) (allowed by \(option) \(path))"]
        case .port(let port, let access):
            let denied = access.intersection(handledNetwork).subtracting(ports[port] ?? [])
            return denied.accessRights.map { right in
                let bind = right.name.hasPrefix("bind")
                let option = ["bind_tcp": "--bind-tcp", "connect_tcp": "--connect-tcp", "bind_udp": "--bind-udp"][right.name] ?? "--connect-udp"
                let place = port == 0 ? "" : (bind ? " src=\(port)" : " dest=\(port)")
                return "blockers=\(right.auditName)\(place) (allowed by \(option) \(port))"
            }
        case .crossed(let scope):
            return scope.intersection(scopes).accessRights.map { right in
                let name = right.name == "signal" ? "signal" : "abstract-unix-socket"
                return "blockers=\(right.auditName) (allowed by --unscoped \(name))"
            }
        }
    }
}
