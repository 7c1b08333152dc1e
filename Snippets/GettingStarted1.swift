// SPDX-License-Identifier: Apache-2.0
// Generated from Sources/Landlock/Documentation.docc/GettingStarted.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock

let abi = LandlockABI.v6
let status = try Ruleset()
    .handling(FileSystemAccess.all(in: abi))
    .handling(NetworkAccess.all(in: abi))
    .scoping(Scope.all(in: abi))
    .adding(PathBeneath("/usr", FileSystemAccess.read(in: abi)))
    .adding(PathBeneath("/etc/ssl", FileSystemAccess.read(in: abi)))
    .adding(PathBeneath("/var/lib/myapp", FileSystemAccess.all(in: abi), ignoreIfMissing: true))
    .adding(NetPort(.connectTCP, port: 443))
    .create()
    .restrictSelf()

switch status.ruleset {
case .fullyEnforced: break
case .partiallyEnforced: print("sandbox partially enforced; dropped: \(status.dropped)")
case .notEnforced: print("no sandbox: \(status.landlock)")
}
if !status.allThreads { print("only the calling thread is restricted (kernel ABI < 8)") }
