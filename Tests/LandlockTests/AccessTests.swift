// SPDX-License-Identifier: Apache-2.0
import Landlock
import Testing

@Suite("Rights, scopes and flags")
struct AccessTests {
    @Test("Every right has the kernel's bit, name and ABI")
    func catalog() {
        #expect(FileSystemAccess.rights.count == 17)
        #expect(FileSystemAccess.resolveUnix.rawValue == 0x10000)
        #expect(FileSystemAccess.refer.accessRights.first?.kernelName == "LANDLOCK_ACCESS_FS_REFER")
        #expect(FileSystemAccess.ioctlDev.accessRights.first?.introduced == .v5)
        #expect(NetworkAccess.bindUDP.rawValue == 1 << 2)
        #expect(NetworkAccess.connectSendUDP.rawValue == 1 << 3)
        #expect(NetworkAccess.connectSendUDP.auditNames == ["net.connect_send_udp"])
        #expect(NetworkAccess.connectSendUDP.accessRights.first?.kernelName == "LANDLOCK_ACCESS_NET_CONNECT_SEND_UDP")
        #expect(Scope.signal.auditNames == ["scope.signal"])
        #expect(RestrictSelfFlags.allThreads.rawValue == 1 << 3)
        #expect(RestrictSelfFlags.noNewPrivileges.rawValue == 1 << 4)
        #expect(RestrictSelfFlags.noNewPrivileges.minimumABI == .v11)
        // Bits are distinct and contiguous from bit 0, as in the UAPI.
        for (index, right) in FileSystemAccess.rights.enumerated() { #expect(right.rawValue == 1 << UInt64(index)) }
    }

    @Test("Sets per ABI hold exactly the rights each ABI introduced", arguments: LandlockABI.allCases)
    func setsPerABI(abi: LandlockABI) {
        let fsCounts: [LandlockABI: Int] = [.v1: 13, .v2: 14, .v3: 15, .v4: 15, .v5: 16, .v6: 16, .v7: 16, .v8: 16, .v9: 17, .v10: 17, .v11: 17]
        #expect(FileSystemAccess.all(in: abi).accessRights.count == fsCounts[abi])
        #expect(NetworkAccess.all(in: abi) == (abi >= .v10 ? [.bindTCP, .connectTCP, .bindUDP, .connectSendUDP] : abi >= .v4 ? .tcp : []))
        #expect(Scope.all(in: abi) == (abi >= .v6 ? [.abstractUnixSocket, .signal] : []))
        #expect(FileSystemAccess.read(in: abi).union(.write(in: abi)) == .all(in: abi))
        #expect(FileSystemAccess.read(in: abi).intersection(.write(in: abi)).isEmpty)
        #expect(FileSystemAccess.fileApplicable(in: abi).isSubset(of: .all(in: abi)))
        #expect(!FileSystemAccess.fileApplicable(in: abi).contains(.readDir))
    }

    @Test("Names resolve by short, audit and kernel name")
    func names() {
        #expect(FileSystemAccess(name: "read_file") == .readFile)
        #expect(FileSystemAccess(name: "fs.make_sym") == .makeSym)
        #expect(NetworkAccess(name: "LANDLOCK_ACCESS_NET_BIND_UDP") == .bindUDP)
        #expect(Scope(name: "abstract_unix_socket") == .abstractUnixSocket)
        #expect(FileSystemAccess(name: "bind_tcp") == nil)
        #expect(NetworkAccess(name: "bind_udpp") == nil)
        #expect(NetworkAccess.udp.description == "net.bind_udp,net.connect_send_udp")
        #expect(NetworkAccess(rawValue: 1 << 9).description == "0x200")
    }

    @Test("The ABI of a kernel version")
    func abiOfKernel() {
        #expect(LandlockABI(kernelVersion: 0) == nil)
        #expect(LandlockABI(kernelVersion: -1) == nil)
        #expect(LandlockABI(kernelVersion: 7) == .v7)
        #expect(LandlockABI(kernelVersion: 12) == .v11)
        #expect(LandlockABI.v10.linuxVersion == "7.2")
        #expect(NetworkAccess.udp.minimumABI == .v10)
        #expect(FileSystemAccess([.execute, .truncate]).minimumABI == .v3)
    }
}
