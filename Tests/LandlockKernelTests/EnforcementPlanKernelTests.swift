// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The plan against the running kernel: what it says before anything is enforced is what
/// `restrictSelf` reports, and what it says the kernel enforces is denied.
@Suite("The enforcement plan on this kernel", .requiresLandlock(.v1))
struct EnforcementPlanKernelTests {
    @Test("The plan's restriction is the kernel's, and its kernel rights are enforced")
    func planMatchesTheKernel() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let allowed = makeTree(), denied = makeTree()
            do {
                let ruleset = try Ruleset()
                    .handling(FileSystemAccess.all(in: .newest))
                    .handling(NetworkAccess.all(in: .newest))
                    .scoping(Scope.all(in: .newest))
                    .adding(PathBeneath(allowed, FileSystemAccess.read(in: .v1)))
                let plan = try EnforcementPlan(.init(ruleset: ruleset), in: .current())
                let status = try ruleset.create().restrictSelf()
                verify(plan.restriction == status, "plan \(plan.restriction), kernel \(status)")
                for entry in plan.entries {
                    let known = entry.right.introduced.rawValue <= TestKernel.abi
                    switch entry.enforcer {
                    case .kernel: verify(known || entry.right.kind == .restrictSelf, "\(entry)")
                    // A Landlock-only plan: the supervisor is never asked for.
                    case .nobody(.kernelTooOld), .nobody(.supervisorDisabled): verify(!known, "\(entry)")
                    default: verify(false, "unexpected \(entry)")
                    }
                }
                // fs.read_file: enforced by the kernel, so a file outside the rule is denied.
                verify(plan.enforcer(of: FileSystemAccess.rights[2]) == .kernel(.landlock(since: .v1)), "fs.read_file")
                verify(openFile(allowed + "/file", O_RDONLY), is: 0, "read allowed file")
                verify(openFile(denied + "/file", O_RDONLY), is: EACCES, "read denied file")
            } catch {
                verify(false, "\(error)")
            }
        }
        let messages = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(messages.isEmpty, "\(messages)")
    }
}
