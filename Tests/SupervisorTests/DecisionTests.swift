// SPDX-License-Identifier: Apache-2.0
import Landlock
import Testing

@testable import LandlockSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// Bytes of a sockaddr: family (little-endian), port (network order), address.
func sockaddr(_ family: UInt16, port: UInt16 = 0, address: [UInt8] = [], length: Int? = nil) -> [UInt8] {
    var bytes: [UInt8] = [UInt8(family & 0xff), UInt8(family >> 8), UInt8(port >> 8), UInt8(port & 0xff)]
    if family == 10 { bytes += [0, 0, 0, 0] + (address.isEmpty ? [UInt8](repeating: 0, count: 16) : address) + [0, 0, 0, 0] }
    else { bytes += (address.isEmpty ? [0, 0, 0, 0] : address) + [UInt8](repeating: 0, count: 8) }
    if let length { bytes = Array(bytes.prefix(length)) + [UInt8](repeating: 0, count: max(0, length - bytes.count)) }
    return bytes
}

func v4(_ port: UInt16) -> [UInt8] { sockaddr(2, port: port, address: [127, 0, 0, 1]) }
func v6(_ port: UInt16) -> [UInt8] { sockaddr(10, port: port) }

/// Both rights handled; bind allowed on 0 and 5353, connect/send on 53.
let full = UDPPolicy(layers: [UDPLayer(handled: .udp, bindPorts: [0, 5353], connectSendPorts: [53])])
let connectOnly = UDPPolicy(layers: [UDPLayer(handled: .connectSendUDP, connectSendPorts: [53])])
let bindOnly = UDPPolicy(layers: [UDPLayer(handled: .bindUDP, bindPorts: [5353])])
let strictBind = UDPPolicy(layers: [UDPLayer(handled: .udp, bindPorts: [5353], connectSendPorts: [53])])

struct Row: CustomStringConvertible, Sendable {
    var name: String
    var operation: UDPOperation
    var family: UDPSocketFamily
    var address: [UInt8]
    var bound: Bool
    var policy: UDPPolicy
    var expected: Int32?  // nil: allowed
    var description: String { name }
}

let rows: [Row] = [
    // §4.4 step 1: no layer handles the right: no validation at all.
    Row(name: "unhandled connect, addrlen 0", operation: .connect, family: .inet, address: [], bound: false, policy: bindOnly, expected: nil),
    Row(name: "unhandled bind, garbage", operation: .bind, family: .inet, address: [9], bound: false, policy: connectOnly, expected: nil),
    Row(name: "empty policy", operation: .send(hasAddress: true), family: .inet, address: v4(9), bound: false, policy: UDPPolicy(layers: []), expected: nil),
    // Step 2: addrlen < 2.
    Row(name: "connect addrlen 1", operation: .connect, family: .inet, address: [2], bound: true, policy: full, expected: EINVAL),
    Row(name: "bind addrlen 0", operation: .bind, family: .inet, address: [], bound: false, policy: full, expected: EINVAL),
    Row(name: "sendto addrlen 0", operation: .send(hasAddress: true), family: .inet, address: [], bound: true, policy: full, expected: EINVAL),
    // AF_UNSPEC.
    Row(name: "connect AF_UNSPEC is a disconnect", operation: .connect, family: .inet6, address: sockaddr(0, length: 2), bound: false, policy: strictBind, expected: nil),
    Row(name: "send AF_UNSPEC on IPv6", operation: .send(hasAddress: true), family: .inet6, address: sockaddr(0, port: 53, length: 28), bound: true, policy: full, expected: EACCES),
    Row(name: "send AF_UNSPEC on IPv4 as AF_INET allowed", operation: .send(hasAddress: true), family: .inet, address: sockaddr(0, port: 53), bound: true, policy: full, expected: nil),
    Row(name: "send AF_UNSPEC on IPv4 as AF_INET denied", operation: .send(hasAddress: true), family: .inet, address: sockaddr(0, port: 54), bound: true, policy: full, expected: EACCES),
    Row(name: "send AF_UNSPEC on IPv4 short", operation: .send(hasAddress: true), family: .inet, address: sockaddr(0, port: 53, length: 15), bound: true, policy: full, expected: EINVAL),
    Row(name: "bind AF_UNSPEC IPv4 short", operation: .bind, family: .inet, address: sockaddr(0, length: 15), bound: false, policy: full, expected: EINVAL),
    Row(name: "bind AF_UNSPEC IPv4 not ANY", operation: .bind, family: .inet, address: sockaddr(0, port: 5353, address: [127, 0, 0, 1]), bound: false, policy: full, expected: EAFNOSUPPORT),
    Row(name: "bind AF_UNSPEC IPv4 ANY allowed port", operation: .bind, family: .inet, address: sockaddr(0, port: 5353), bound: false, policy: full, expected: nil),
    Row(name: "bind AF_UNSPEC IPv4 ANY denied port", operation: .bind, family: .inet, address: sockaddr(0, port: 5354), bound: false, policy: full, expected: EACCES),
    Row(name: "bind AF_UNSPEC IPv6 short", operation: .bind, family: .inet6, address: sockaddr(0, length: 23), bound: false, policy: full, expected: EINVAL),
    Row(name: "bind AF_UNSPEC IPv6", operation: .bind, family: .inet6, address: sockaddr(0, port: 5353, length: 24), bound: false, policy: full, expected: EAFNOSUPPORT),
    // Lengths per family.
    Row(name: "AF_INET 15 bytes", operation: .connect, family: .inet, address: Array(v4(53).prefix(15)), bound: true, policy: full, expected: EINVAL),
    Row(name: "AF_INET6 23 bytes", operation: .connect, family: .inet6, address: Array(v6(53).prefix(23)), bound: true, policy: full, expected: EINVAL),
    Row(name: "AF_INET6 24 bytes (RFC 2133)", operation: .connect, family: .inet6, address: Array(v6(53).prefix(24)), bound: true, policy: full, expected: nil),
    // Other families: Landlock does not decide; connect still runs the autobind check.
    Row(name: "AF_UNIX connect, bound", operation: .connect, family: .inet, address: sockaddr(1, length: 16), bound: true, policy: full, expected: nil),
    Row(name: "AF_UNIX connect, unbound, autobind denied", operation: .connect, family: .inet, address: sockaddr(1, length: 16), bound: false, policy: strictBind, expected: EACCES),
    // Step 5: family mismatch.
    Row(name: "AF_INET on IPv6 socket", operation: .send(hasAddress: true), family: .inet6, address: v4(53), bound: true, policy: full, expected: EINVAL),
    Row(name: "AF_INET6 on IPv4 socket", operation: .connect, family: .inet, address: v6(53), bound: true, policy: full, expected: EINVAL),
    // Step 6: ports.
    Row(name: "connect allowed", operation: .connect, family: .inet, address: v4(53), bound: true, policy: full, expected: nil),
    Row(name: "connect denied", operation: .connect, family: .inet, address: v4(54), bound: true, policy: full, expected: EACCES),
    Row(name: "IPv6 send allowed", operation: .send(hasAddress: true), family: .inet6, address: v6(53), bound: true, policy: full, expected: nil),
    Row(name: "bind 5353", operation: .bind, family: .inet, address: v4(5353), bound: false, policy: full, expected: nil),
    Row(name: "bind 0 needs the port-0 rule", operation: .bind, family: .inet, address: v4(0), bound: false, policy: strictBind, expected: EACCES),
    Row(name: "connect port 0 matches only a port-0 rule", operation: .connect, family: .inet, address: v4(0), bound: true, policy: full, expected: EACCES),
    // Autobind.
    Row(name: "unbound connect, port 0 allowed", operation: .connect, family: .inet, address: v4(53), bound: false, policy: full, expected: nil),
    Row(name: "unbound connect, port 0 denied", operation: .connect, family: .inet, address: v4(53), bound: false, policy: strictBind, expected: EACCES),
    Row(name: "unbound send, port 0 denied", operation: .send(hasAddress: true), family: .inet, address: v4(53), bound: false, policy: strictBind, expected: EACCES),
    Row(name: "bound send", operation: .send(hasAddress: true), family: .inet, address: v4(53), bound: true, policy: strictBind, expected: nil),
    Row(name: "send without address, unbound, autobind denied", operation: .send(hasAddress: false), family: .inet, address: [], bound: false, policy: strictBind, expected: EACCES),
    Row(name: "send without address, bound", operation: .send(hasAddress: false), family: .inet, address: [], bound: true, policy: strictBind, expected: nil),
    Row(name: "truncated send, only bind handled, unbound: EACCES", operation: .send(hasAddress: true), family: .inet, address: [2], bound: false, policy: UDPPolicy(layers: [UDPLayer(handled: .bindUDP, bindPorts: [5353])]), expected: EACCES),
    Row(name: "connect addrlen 1, connect unhandled: no autobind", operation: .connect, family: .inet, address: [2], bound: false, policy: bindOnly, expected: nil),
    Row(name: "connect AF_UNSPEC: no autobind", operation: .connect, family: .inet, address: sockaddr(0, length: 16), bound: false, policy: bindOnly, expected: nil),
    // Layers: every handling layer must allow.
    Row(name: "two layers, inner denies", operation: .send(hasAddress: true), family: .inet, address: v4(53), bound: true, policy: full.nesting(UDPPolicy(layers: [UDPLayer(handled: .connectSendUDP, connectSendPorts: [54])])), expected: EACCES),
    Row(name: "two layers, both allow", operation: .send(hasAddress: true), family: .inet, address: v4(53), bound: true, policy: full.nesting(UDPPolicy(layers: [UDPLayer(handled: .connectSendUDP, connectSendPorts: [53])])), expected: nil),
    Row(name: "two layers, inner handles bind only", operation: .send(hasAddress: true), family: .inet, address: v4(53), bound: false, policy: full.nesting(bindOnly), expected: EACCES),
]

@Suite struct DecisionTests {
    @Test(arguments: rows)
    func kernelProcedure(_ row: Row) {
        let decision = UDPDecision.check(row.operation, family: row.family, address: row.address, isBound: row.bound, policy: row.policy)
        #expect(decision.errno == row.expected, "\(row.name): \(decision)")
    }

    @Test func auditRecords() {
        let connect = UDPDecision.check(.connect, family: .inet, address: sockaddr(2, port: 53, address: [192, 0, 2, 7]), isBound: true, policy: UDPPolicy(layers: [UDPLayer(handled: .udp)]))
        #expect(UDPDenial(decision: connect, operation: .connect).description == "blockers=net.connect_send_udp daddr=192.0.2.7 dest=53 (allowed by net.connect_send_udp on port 53)")
        let bind = UDPDecision.check(.bind, family: .inet, address: sockaddr(2, port: 5353), isBound: false, policy: UDPPolicy(layers: [UDPLayer(handled: .udp)]))
        #expect(UDPDenial(decision: bind, operation: .bind).description == "blockers=net.bind_udp src=5353 (allowed by net.bind_udp on port 5353)")
        let autobind = UDPDecision.check(.send(hasAddress: true), family: .inet, address: v4(53), isBound: false, policy: strictBind)
        #expect(UDPDenial(decision: autobind, operation: .send(hasAddress: true)).description == "blockers=net.bind_udp (allowed by net.bind_udp on port 0)")
    }

    /// A denial names the youngest layer that denies, as Landlock's audit record does: the
    /// supervisor logs it where that layer asked (a nested `--log-denials`).
    @Test func denialsNameTheYoungestDenyingLayer() {
        let outer = UDPLayer(handled: .udp, bindPorts: [0], connectSendPorts: [53, 54])
        let inner = UDPLayer(handled: .udp, bindPorts: [0], connectSendPorts: [53, 55])
        let policy = UDPPolicy(layers: [outer, inner])
        func layer(_ port: UInt16, bound: Bool = true) -> Int? {
            UDPDecision.check(.send(hasAddress: true), family: .inet, address: v4(port), isBound: bound, policy: policy).layer
        }
        #expect(layer(53) == nil)
        #expect(layer(54) == 1)  // only the inner layer denies
        #expect(layer(55) == 0)  // only the outer layer denies
        #expect(layer(56) == 1)  // both deny: the youngest
        let noAutobind = UDPPolicy(layers: [outer, UDPLayer(handled: .bindUDP)])
        #expect(UDPDecision.check(.connect, family: .inet, address: v4(53), isBound: false, policy: noAutobind).layer == 1)
        let sixUnspec = UDPDecision.check(
            .send(hasAddress: true), family: .inet6, address: sockaddr(0, port: 53, length: 28), isBound: true,
            policy: UDPPolicy(layers: [outer, UDPLayer(handled: .bindUDP)]))
        #expect(sixUnspec.layer == 0)  // the youngest layer that handles connect_send_udp
    }

    @Test func policyFromRuleset() throws {
        let ruleset = try Ruleset().handling(NetworkAccess.all(in: .v10))
            .adding(NetPort([.connectSendUDP, .connectTCP], port: 53)).adding(NetPort(.bindUDP, port: 0))
        let layer = UDPLayer(ruleset: ruleset)
        #expect(layer.handled == .udp)
        #expect(layer.connectSendPorts == [53])
        #expect(layer.bindPorts == [0])
        let stripped = ruleset.removingAccess(network: .udp)
        #expect(stripped.handledNetwork == .tcp)
        #expect(stripped.rules.count == 1)
    }
}
