// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import LandlockSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// `ProcStatus`: the one reader of `/proc/<pid>/status` fields (thread groups, parents, signal
/// masks, credentials), against the kernel's text and against odd text.
@Suite("Reading /proc status fields")
struct ProcStatusTests {
    static let sample = Array("""
        Name:\tsh
        Umask:\t0022
        Tgid:\t4242
        Ngid:\t0
        NStgid:\t4242\t17
        PPid:\t1
        Uid:\t1000\t1000\t1000\t1000
        Groups:\t
        SigPnd:\t0000000000000200
        CapEff:\t000001ffffffffff
        Seccomp:\t2

        """.utf8)

    @Test("Fields are found by their whole name, without the blanks around the value")
    func fieldsByName() {
        let status = ProcStatus(text: Self.sample)
        #expect(status.decimal("Tgid") == 4242)
        #expect(status.decimal("PPid") == 1)
        #expect(status.decimal("Seccomp") == 2)
        #expect(status.mask("SigPnd") == 0x200)
        #expect(status.mask("CapEff") == 0x1ff_ffff_ffff)
        #expect(status.words("NStgid")?.map { Array($0) } == [Array("4242".utf8), Array("17".utf8)])
        #expect(status.words("Uid")?.count == 4)
        #expect(status.words("Groups")?.isEmpty == true)
        #expect(status.field("Umask").map { Array($0) } == Array("0022".utf8))
    }

    @Test("A name is not matched inside another (Gid in Ngid, Pid in PPid) or when absent")
    func noPartialMatches() {
        let status = ProcStatus(text: Self.sample)
        #expect(status.decimal("Gid") == nil)
        #expect(status.decimal("Pid") == nil)
        #expect(status.decimal("Ngid") == 0)
        #expect(status.decimal("ShdPnd") == nil)
        #expect(ProcStatus(text: Array("Tgid:".utf8)).decimal("Tgid") == nil)
        #expect(ProcStatus(text: Array("Tgid:\t12x\n".utf8)).decimal("Tgid") == nil)
        #expect(ProcStatus(text: []).field("Tgid") == nil)
    }

    @Test("This thread's own status reads as the kernel writes it")
    func ownStatus() throws {
        let status = try #require(ProcStatus("/proc/self/status"))
        #expect(status.decimal("Tgid") == getpid())
        #expect(status.decimal("PPid") == getppid())
        #expect(threadGroup(of: getpid()) == getpid())
        #expect(parentProcess(of: getpid()) == getppid())
        let facts = try #require(ThreadFacts(thread: getpid()))
        #expect(facts.process == getpid())
        #expect(facts.credentials.uid.first == getuid())
        #expect(facts.credentials.gid.first == getgid())
    }
}
