// SPDX-License-Identifier: Apache-2.0
// Generated from Sources/Landlock/Documentation.docc/CompatibilityAndBestEffort.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock

let ruleset = Ruleset(compatibility: .hardRequirement)
    .handling(FileSystemAccess.all(in: .v3))                     // must be enforced
    .handling(NetworkAccess.udp, compatibility: .bestEffort)      // nice to have

let plan = try EnforcementPlan(.init(ruleset: ruleset), in: .current())
for entry in plan.entries { print(entry) }
// fs.execute: enforced by the kernel (ABI 1)
// ...
// net.bind_udp: not enforced: kernel ABI 7 < 10 and the supervisor is disabled
