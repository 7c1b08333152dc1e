// SPDX-License-Identifier: Apache-2.0
import LandlockSupervisor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The seccomp filter that closes what Landlock's TCP rights leave open: MPTCP and SCTP
/// internet sockets are refused with EPROTONOSUPPORT (programs fall back to TCP), on every
/// entry point, while TCP, UDP and UNIX sockets are untouched. Each case runs in a child
/// process: a filter cannot be removed.
@Suite struct ProtocolFilterTests {
    @Test func uncoveredProtocolsAreRefusedAndOthersOpen() async {
        await #expect(processExitsWith: .success) {
            guard SeccompTools.installProtocolFilter() == 0 else { exit(90) }
            let stream = Int32(SOCK_STREAM.rawValue), datagram = Int32(SOCK_DGRAM.rawValue)
            let seqpacket = Int32(SOCK_SEQPACKET.rawValue)
            func opens(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 {
                let fd = socket(domain, type, proto)
                if fd >= 0 { close(fd); return 0 }
                return errno
            }
            let mptcp: Int32 = 262, sctp: Int32 = 132
            // Refused: MPTCP on both families, SCTP stream and seqpacket.
            for (domain, type, proto) in [
                (AF_INET, stream, mptcp), (AF_INET6, stream, mptcp), (AF_INET, stream, sctp), (AF_INET6, seqpacket, sctp),
            ] where opens(domain, type, proto) != EPROTONOSUPPORT {
                exit(1)
            }
            // Untouched: TCP, UDP, UNIX (protocol 0 and explicit).
            for (domain, type, proto) in [
                (AF_INET, stream, 0), (AF_INET6, stream, Int32(IPPROTO_TCP)), (AF_INET, datagram, 0),
                (AF_INET, datagram, Int32(IPPROTO_UDP)), (AF_UNIX, stream, 0),
            ] where opens(domain, type, proto) != 0 {
                exit(2)
            }
            exit(0)
        }
    }

    /// The i386 entry (int 0x80), which any x86_64 program can use: `socket` is checked the
    /// same way, `socketcall` (arguments behind a pointer) is refused outright.
    @Test(.enabled(if: helper != nil, "Requires gcc to build the C helper")) func theI386EntryIsCoveredToo() async {
        await #expect(processExitsWith: .success) {
            let path = helper!
            guard SeccompTools.installProtocolFilter() == 0 else { exit(90) }
            let argv = [strdup(path), strdup("int80proto"), nil]
            execv(path, argv)
            exit(91)
        }
    }
}
