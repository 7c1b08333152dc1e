// SPDX-License-Identifier: Apache-2.0
// Generated from README.md by Scripts/update-snippets.py: edit the page, not this file.

import Landlock
import LandlockSupervisor

let command = SandboxedCommand(
    executable: "getent", arguments: ["hosts", "example.org"],
    ruleset: try Ruleset()
        .handling(NetworkAccess.all(in: .v10))
        .adding(NetPort([.connectSendUDP, .connectTCP], port: 53))
        .adding(NetPort(.bindUDP, port: 0)))
let prepared = try command.prepare()
print(prepared.status)        // ...; net.connect_send_udp: enforced by the supervisor
let exit = try prepared.spawn().wait()
print(exit)                   // exited with status 0 (2 when the name does not resolve)
