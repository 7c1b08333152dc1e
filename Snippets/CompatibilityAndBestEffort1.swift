// SPDX-License-Identifier: Apache-2.0
// Generated from Sources/Landlock/Documentation.docc/CompatibilityAndBestEffort.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock

let ruleset = try Ruleset(compatibility: .hardRequirement)
    .handling(FileSystemAccess.all(in: .v3))                     // must be enforced
    .handling(NetworkAccess.udp, compatibility: .bestEffort)      // nice to have
