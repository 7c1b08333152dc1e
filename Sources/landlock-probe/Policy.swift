// SPDX-License-Identifier: Apache-2.0
// Shared by the parent and the sandboxed process: building a layer's ruleset, and reading
// from a SandboxStatus whether a layer can be checked here.
import Landlock
import LandlockSupervisor

enum ProbeMode: String {
    case kernel, supervisor

    var udp: UDPEnforcement { self == .kernel ? .kernelOnly : .supervisor }
}

func ruleset(for layer: LayerSpec, _ environment: OperationEnvironment) throws -> Ruleset {
    var ruleset = Ruleset()
    if !layer.network.isEmpty { ruleset = ruleset.handling(layer.network) }
    if !layer.fileSystem.isEmpty { ruleset = ruleset.handling(layer.fileSystem) }
    for (port, rights) in layer.ports {
        let number: Int
        switch port {
        case .number(let value): number = value
        case .name(let name): number = try environment.port(name)
        }
        ruleset = try ruleset.adding(NetPort(rights, port: number))
    }
    for (path, rights) in layer.paths {
        ruleset = try ruleset.adding(PathBeneath(try environment.path(path), rights))
    }
    return ruleset
}

/// Why this layer cannot be checked with this status, or nil when everything it handles is
/// enforced. Every reason comes from the sandbox's enforcement plan (the kernel's ABI, what
/// was dropped, why the UDP rights are not enforced).
func skipReason(_ status: SandboxStatus, layer: LayerSpec, mode: ProbeMode) -> String? {
    let landlock = status.restriction.landlock
    guard let abi = landlock.abi else { return "\(landlock)" }
    var reasons: [String] = []
    var outer: NetworkAccess = []
    var droppedNetwork: NetworkAccess = []
    var droppedFileSystem: FileSystemAccess = []
    var udpReason: String?
    for (right, reason) in status.plan.notEnforced {
        if let network = NetworkAccess(right), layer.network.contains(right) {
            if NetworkAccess.udp.contains(right) {
                udpReason = udpReason ?? (mode == .kernel && abi < .v10
                    ? "UDP not enforced by this kernel (ABI \(abi.rawValue) < 10)" : "UDP not enforced: \(reason)")
            } else if reason == .outerSupervisor {
                outer.formUnion(network)
            } else if case .kernelTooOld = reason {
                droppedNetwork.formUnion(network)
            }
        } else if let fileSystem = FileSystemAccess(right), case .kernelTooOld = reason {
            droppedFileSystem.formUnion(fileSystem)
        }
    }
    if let udpReason { reasons.append(udpReason) }
    if !outer.isEmpty {
        reasons.append("\(outer) not enforced: an outer seccomp supervisor performs the socket calls outside this layer")
    }
    let droppedRights = droppedNetwork.accessRights + droppedFileSystem.accessRights
    if !droppedRights.isEmpty {
        let needed = droppedRights.map(\.introduced.rawValue).max() ?? 0
        let names = droppedNetwork.isSubset(of: .tcp) && droppedNetwork == .tcp.intersection(layer.network)
            && droppedFileSystem.isEmpty
            ? "TCP" : droppedRights.map(\.auditName).joined(separator: ",")
        reasons.append("\(names) not enforced by this kernel (ABI \(abi.rawValue) < \(needed))")
    }
    if reasons.isEmpty && status.restriction.ruleset == .notEnforced {
        reasons.append("the ruleset is not enforced (\(status.restriction))")
    }
    return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
}
