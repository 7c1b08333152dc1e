// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

/// Policy files in the landlockconfig format, TOML and JSON.
@Suite("Policy files", .requiresLandlock(.v4))
struct ConfigTests {
    @Test func tomlPolicyIsEnforced() {
        let scratch = Scratch()
        let allowed = scratch.file("data/ok.txt", "ok\n")
        let denied = scratch.file("other/no.txt", "no\n")
        let config = scratch.file(
            "policy.toml",
            """
            # A policy in the landlockconfig format.
            abi = 4

            [[variable]]
            name = "scratch"
            literal = ["\(scratch.path)"]

            [[ruleset]]
            handled_access_fs = ["abi.all"]
            handled_access_net = ["bind_tcp", "connect_tcp"]

            [[ruleset]]
            handled_access_fs = ["execute"]

            [[path_beneath]]
            allowed_access = ["abi.read_execute"]
            parent = ["/usr", "/etc", '${scratch}/data']

            [[net_port]]
            allowed_access = ["connect_tcp"]
            port = [443, 0x50,]
            """)
        let ok = exec(["--quiet", "--config", config, "--", "cat", allowed])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.standardOutput == "ok\n")
        let no = exec(["--quiet", "--config", config, "--", "cat", denied])
        #expect(no.status == 1, "\(no)")
        let extra = exec(["--quiet", "--config", config, "--ro", scratch.path + "/other", "--", "cat", denied])
        #expect(extra.status == 0, "\(extra)")
    }

    @Test func jsonPolicyIsEnforced() {
        let scratch = Scratch()
        let allowed = scratch.file("data/ok.txt", "ok\n")
        let denied = scratch.file("other/no.txt", "no\n")
        let config = scratch.file(
            "policy.json",
            """
            {
              "abi": 4,
              "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"]}],
              "pathBeneath": [
                {"allowedAccess": ["abi.read_execute"], "parent": ["/usr", "/etc", "\(scratch.path)/data"]}
              ],
              "netPort": [{"allowedAccess": ["connect_tcp"], "port": [443]}]
            }
            """)
        let ok = exec(["--quiet", "--config", config, "--", "cat", allowed])
        #expect(ok.status == 0, "\(ok)")
        let no = exec(["--quiet", "--config", config, "--", "cat", denied])
        #expect(no.status == 1, "\(no)")
        let bind = exec(["--quiet", "--config", config, "--"] + python("socket.socket().bind(('127.0.0.1', 0))"))
        #expect(bind.status == 13, "\(bind)")
    }
}
