// SPDX-License-Identifier: Apache-2.0
public import Landlock

/// One Landlock layer as far as UDP is concerned: which UDP rights it handles and the ports
/// its rules allow for each.
public struct UDPLayer: Sendable, Hashable {
    /// The UDP rights this layer handles (a subset of ``NetworkAccess/udp``).
    public var handled: NetworkAccess
    /// Ports allowed for ``NetworkAccess/bindUDP`` (0 means "may bind port 0 / autobind").
    public var bindPorts: Set<UInt16>
    /// Ports allowed for ``NetworkAccess/connectSendUDP``.
    public var connectSendPorts: Set<UInt16>

    public init(handled: NetworkAccess, bindPorts: Set<UInt16> = [], connectSendPorts: Set<UInt16> = []) {
        self.handled = handled.intersection(.udp)
        self.bindPorts = bindPorts
        self.connectSendPorts = connectSendPorts
    }

    /// The UDP part of a ruleset: its handled UDP rights and the ports of its ``NetPort``
    /// rules. Compatibility levels do not matter here: the supervisor supports both rights.
    public init(ruleset: Ruleset) {
        var bind: Set<UInt16> = []
        var connect: Set<UInt16> = []
        for rule in ruleset.rules {
            guard case .netPort(let port, _) = rule, NetPort.validPorts.contains(port.port) else { continue }
            if port.access.contains(.bindUDP) { bind.insert(UInt16(port.port)) }
            if port.access.contains(.connectSendUDP) { connect.insert(UInt16(port.port)) }
        }
        self.init(handled: ruleset.handledNetwork, bindPorts: bind, connectSendPorts: connect)
    }

    /// Whether this layer grants `right` on `port` (a layer that does not handle it grants it).
    public func allows(_ right: NetworkAccess, port: UInt16) -> Bool {
        guard handled.contains(right) else { return true }
        return right == .bindUDP ? bindPorts.contains(port) : connectSendPorts.contains(port)
    }
}

/// The UDP part of a Landlock domain: its layers, outermost first.
public struct UDPPolicy: Sendable, Hashable {
    public var layers: [UDPLayer]

    public init(layers: [UDPLayer]) { self.layers = layers.filter { !$0.handled.isEmpty } }

    /// A one-layer policy from a ruleset.
    public init(ruleset: Ruleset) { self.init(layers: [UDPLayer(ruleset: ruleset)]) }

    /// Whether any layer handles `right`.
    public func handles(_ right: NetworkAccess) -> Bool { layers.contains { $0.handled.contains(right) } }

    /// This policy with `other`'s layers nested inside it.
    public func nesting(_ other: UDPPolicy) -> UDPPolicy { UDPPolicy(layers: layers + other.layers) }
}

/// The socket call being checked.
public enum UDPOperation: Sendable, Hashable {
    /// `bind(2)`.
    case bind
    /// `connect(2)`.
    case connect
    /// One message of `sendto(2)`, `sendmsg(2)` or `sendmmsg(2)`. `hasAddress` is the kernel's
    /// `msg_name != NULL`: for `sendto` a non-NULL `dest_addr` (even with length 0), for
    /// `sendmsg` a non-NULL `msg_name` with a non-zero `msg_namelen`.
    case send(hasAddress: Bool)
}

/// The family of the UDP socket (`sk_family`, read once).
public enum UDPSocketFamily: Sendable, Hashable {
    case inet, inet6

    var addressFamily: UInt16 { self == .inet ? 2 : 10 }
}

/// The outcome of ``UDPDecision/check(_:family:address:isBound:policy:)``.
public struct UDPDecision: Sendable, Hashable, CustomStringConvertible {
    /// `nil` to allow, otherwise the errno the kernel returns (EACCES, EINVAL, EAFNOSUPPORT).
    public var errno: Int32?
    /// For a denial by a rule (EACCES): the right that blocked.
    public var blocker: NetworkAccess?
    /// For a denial by a rule: the port checked (`nil` for the autobind check, which the kernel
    /// logs without address or port, and for an AF_UNSPEC send on an IPv6 socket).
    public var port: UInt16?
    /// For a denial by a rule: the address bytes, for the audit-shaped line.
    public var address: [UInt8]
    /// For a denial by a rule: the index in ``UDPPolicy/layers`` of the youngest layer that
    /// denies, the one Landlock's audit record names.
    public var layer: Int? = nil

    public static let allow = UDPDecision(errno: nil, blocker: nil, port: nil, address: [])
    static func error(_ errno: Int32) -> UDPDecision { UDPDecision(errno: errno, blocker: nil, port: nil, address: []) }
    static func denied(_ right: NetworkAccess, port: UInt16?, address: [UInt8], layer: Int?) -> UDPDecision {
        UDPDecision(errno: EACCES, blocker: right, port: port, address: address, layer: layer)
    }

    public var isAllowed: Bool { errno == nil }

    public var description: String {
        guard let errno else { return "allow" }
        let name = [EACCES: "EACCES", EINVAL: "EINVAL", EAFNOSUPPORT: "EAFNOSUPPORT"][errno] ?? "errno \(errno)"
        guard let blocker else { return name }
        return "\(name) (\(blocker)\(port.map { " port \($0)" } ?? ""))"
    }

    // MARK: The kernel's procedure (landlock-abi.md §4.4)

    /// Decides one UDP `bind`, `connect` or send as Landlock ABI 10 does.
    ///
    /// - Parameters:
    ///   - operation: the call.
    ///   - family: the socket's family.
    ///   - address: the address bytes the call passes; its count is the address length the
    ///     kernel sees (the caller copies at most `sizeof(struct sockaddr_storage)` bytes and
    ///     rejects longer addresses where the stack does). Ignored for a send without address.
    ///   - isBound: whether the socket has a local port (`inet_num != 0`).
    ///   - policy: the domain's UDP layers.
    public static func check(
        _ operation: UDPOperation, family: UDPSocketFamily, address: [UInt8], isBound: Bool, policy: UDPPolicy
    ) -> UDPDecision {
        switch operation {
        case .bind:
            return checkSocket(.bindUDP, operation, family, address, policy)
        case .connect:
            let main = checkSocket(.connectSendUDP, operation, family, address, policy)
            guard main.isAllowed else { return main }
            // No autobind check for a disconnect or an address too short to hold a family.
            if address.count < 2 || sockaddrFamily(address) == afUnspec { return .allow }
            return checkAutobind(family, isBound, policy)
        case .send(let hasAddress):
            if hasAddress {
                let main = checkSocket(.connectSendUDP, operation, family, address, policy)
                guard main.isAllowed else { return main }
            }
            return checkAutobind(family, isBound, policy)
        }
    }

    private static let afUnspec: UInt16 = 0
    private static let afInet: UInt16 = 2
    private static let afInet6: UInt16 = 10

    private static func sockaddrFamily(_ address: [UInt8]) -> UInt16 {
        UInt16(address[0]) | UInt16(address[1]) << 8  // sa_family_t, host (little-endian) order
    }

    private static func port(_ address: [UInt8]) -> UInt16 {
        UInt16(address[2]) << 8 | UInt16(address[3])  // sin_port / sin6_port, network order
    }

    /// `current_check_access_socket()`.
    private static func checkSocket(
        _ right: NetworkAccess, _ operation: UDPOperation, _ family: UDPSocketFamily, _ address: [UInt8],
        _ policy: UDPPolicy
    ) -> UDPDecision {
        // 1. Nothing handles the right: allow, without validating anything.
        guard policy.handles(right) else { return .allow }
        // 2. The family cannot be read.
        guard address.count >= 2 else { return .error(EINVAL) }
        // 3-4. Dispatch on the address family.
        let saFamily = sockaddrFamily(address)
        switch saFamily {
        case afUnspec:
            switch (operation, family) {
            case (.connect, _):
                return .allow
            case (.send, .inet6):
                return .denied(right, port: nil, address: [], layer: policy.layers.lastIndex { $0.handled.contains(right) })
            case (.send, .inet):
                guard address.count >= 16 else { return .error(EINVAL) }
            case (.bind, .inet):
                guard address.count >= 16 else { return .error(EINVAL) }
                guard address[4..<8].allSatisfy({ $0 == 0 }) else { return .error(EAFNOSUPPORT) }
            case (.bind, .inet6):
                guard address.count >= 24 else { return .error(EINVAL) }
                return .error(EAFNOSUPPORT)
            }
        case afInet:
            guard address.count >= 16 else { return .error(EINVAL) }
        case afInet6:
            guard address.count >= 24 else { return .error(EINVAL) }
        default:
            return .allow  // Not Landlock's to decide: the protocol returns its own error.
        }
        // 5. Family mismatch.
        if saFamily != afUnspec && saFamily != family.addressFamily { return .error(EINVAL) }
        // 6. Every handling layer must grant the right on the port.
        let port = port(address)
        if let layer = policy.layers.lastIndex(where: { !$0.allows(right, port: port) }) {
            return .denied(
                right, port: port, address: auditAddress(address, saFamily == afUnspec ? afInet : saFamily), layer: layer)
        }
        return .allow
    }

    /// `current_check_autobind_udp_socket()`: an unbound socket that connects or sends is
    /// bound to an ephemeral port, checked as BIND_UDP on port 0.
    private static func checkAutobind(_ family: UDPSocketFamily, _ isBound: Bool, _ policy: UDPPolicy) -> UDPDecision {
        guard policy.handles(.bindUDP), !isBound else { return .allow }
        if let layer = policy.layers.lastIndex(where: { !$0.allows(.bindUDP, port: 0) }) {
            return .denied(.bindUDP, port: nil, address: [], layer: layer)
        }
        return .allow
    }

    private static func auditAddress(_ address: [UInt8], _ family: UInt16) -> [UInt8] {
        family == afInet6 ? Array(address[8..<24]) : Array(address[4..<8])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
