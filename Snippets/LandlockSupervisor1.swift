// SPDX-License-Identifier: Apache-2.0
// Generated from Sources/LandlockSupervisor/Documentation.docc/LandlockSupervisor.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock
import LandlockSupervisor

let command = SandboxedCommand(
    executable: "getent", arguments: ["hosts", "example.org"],
    ruleset: try Ruleset()
        .handling(NetworkAccess.all(in: .v10))
        .adding(NetPort([.connectSendUDP, .connectTCP], port: 53))
        .adding(NetPort(.bindUDP, port: 0)))
let prepared = try command.prepare()     // the full status, before anything runs
print(prepared.status)
let exit = try prepared.spawn().wait()
print(exit)                              // exited with status 0
