// SPDX-License-Identifier: Apache-2.0
// Generated from README.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock

let status = try Ruleset()
    .handling(FileSystemAccess.all(in: .v6))
    .handling(NetworkAccess.all(in: .v6))
    .scoping(Scope.all(in: .v6))
    .adding(PathBeneath("/usr", FileSystemAccess.read(in: .v6)))
    .adding(PathBeneath("/tmp", FileSystemAccess.all(in: .v6)))
    .adding(NetPort(.connectTCP, port: 443))
    .create()
    .restrictSelf()
print(status)  // on ABI 7: "fully enforced at ABI 7 (dropped: restrict_self.tsync); calling thread only; no_new_privs"
