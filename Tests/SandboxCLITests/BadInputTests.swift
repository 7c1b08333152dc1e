// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every bad input exits with its documented status and message, and starts nothing.
@Suite("Bad input")
struct BadInputTests {
    /// Runs landlock-exec with `arguments` followed by a command that would leave a marker.
    func rejected(_ arguments: [String], status: Int32, stderr expected: String, prefixOnly: Bool = false) {
        let scratch = Scratch()
        let result = exec(arguments + ["--", "touch", scratch.path + "/marker"])
        #expect(result.status == status, "\(result)")
        if prefixOnly {
            #expect(result.standardError.hasPrefix(expected), "\(result)")
        } else {
            #expect(result.standardError == expected, "\(result)")
        }
        #expect(result.standardOutput == "")
        #expect(!scratch.exists("marker"), "the command ran")
        #expect(!CLIProcess.processGroupExists(result.pid))
    }

    @Test(.requiresLandlock(.v1)) func missingPath() {
        rejected(
            ["--ro", "/nonexistent/landlock-exec"], status: 125,
            stderr: """
                landlock-exec: error: Failed to open "/nonexistent/landlock-exec" for a rule: No such file or directory (ENOENT)
                Hint: create the path, fix its spelling, or add --ignore-missing to skip missing paths

                """)
    }

    @Test func portOutOfRange() {
        rejected(
            ["--bind-tcp", "70000"], status: 64,
            stderr: """
                Error: The value '70000' is invalid for '--bind-tcp <port>': port 70000 is out of range; ports range from 0 to 65535.
                Help:  --bind-tcp <port>  Allow binding TCP sockets to PORT (or a range such as 8000-8010).
                Usage: landlock-exec run [<options>] [<command> ...]
                  See 'landlock-exec run --help' for more information.

                """)
        rejected(["--connect-tcp", "90-80"], status: 64, stderr: "Error: The value '90-80' is invalid for '--connect-tcp <port>': the range '90-80' is empty; write the lower port first, as in 80-90.\n", prefixOnly: true)
        rejected(["--connect-tcp", "https"], status: 64, stderr: "Error: The value 'https' is invalid for '--connect-tcp <port>': 'https' is not a port number or a range such as 8000-8010.\n", prefixOnly: true)
    }

    @Test func unknownFlag() {
        rejected(
            ["--bogus"], status: 64,
            stderr: """
                Error: Unknown option '--bogus'. To run a command whose name starts with '-', put it after --.
                Usage: landlock-exec run [<options>] [<command> ...]
                  See 'landlock-exec run --help' for more information.

                """)
    }

    @Test func conflictingFlags() {
        rejected(
            ["--unrestricted-net", "--bind-tcp", "80"], status: 64,
            stderr: "Error: --bind-tcp cannot be combined with --unrestricted-net, which leaves net.bind_tcp unrestricted; remove one of them.\n",
            prefixOnly: true)
        rejected(
            ["--unrestricted", "udp", "--connect-udp", "53"], status: 64,
            stderr: "Error: --connect-udp cannot be combined with --unrestricted, which leaves net.connect_send_udp unrestricted; remove one of them.\n",
            prefixOnly: true)
        let scratch = Scratch()
        let config = scratch.file("p.toml", "abi = 1\n[[ruleset]]\nhandled_access_fs = [\"abi.all\"]\n")
        rejected(
            ["--config", config, "--unscoped", "signal"], status: 64,
            stderr: "Error: --unscoped cannot be combined with --config; the policy file says which scopes apply.\n", prefixOnly: true)
    }

    @Test func missingCommand() {
        let result = exec(["--ro", "/usr"])
        #expect(result.status == 64)
        #expect(result.standardError.hasPrefix("Error: Missing the command to run; write it after --, as in: landlock-exec --rox /usr -- ls\n"))
    }

    @Test func commandNotFoundOrNotExecutable() {
        let notFound = exec(["--", "no-such-command-landlock-exec"], environment: ["PATH=/usr/bin:/bin"])
        #expect(notFound.status == 127)
        #expect(
            notFound.standardError == """
                landlock-exec: error: Failed to find "no-such-command-landlock-exec": No such file or directory (ENOENT)
                Hint: check the spelling, or give the full path of the command

                """)
        let scratch = Scratch()
        let script = scratch.file("script.sh", "#!/bin/sh\n")
        _ = chmod(script, 0o644)
        let notExecutable = exec(["--", script])
        #expect(notExecutable.status == 126)
        #expect(
            notExecutable.standardError == """
                landlock-exec: error: Failed to execute "\(script)": Permission denied (EACCES)
                Hint: make the file executable (chmod +x), or run it through its interpreter

                """)
    }

    @Test func malformedConfigFiles() {
        let scratch = Scratch()
        func config(_ name: String, _ text: String, _ expected: String) {
            let path = scratch.file(name, text)
            rejected(["--config", path], status: 64, stderr: expected.replacing("FILE", with: path))
        }
        config(
            "unknown-key.toml", "abi = 5\n\n[[ruleset]]\nhandled_acess_fs = [\"abi.all\"]\n",
            """
            landlock-exec: error: FILE:4: key 'handled_acess_fs': unknown key in [[ruleset]]
            Hint: the keys of [[ruleset]] are 'handled_access_fs', 'handled_access_net', 'scoped'

            """)
        config(
            "unknown-right.toml", "abi = 5\n[[path_beneath]]\nallowed_access = [\"read_file\",\n  \"fly\"]\nparent = [\"/usr\"]\n",
            """
            landlock-exec: error: FILE:4: key 'allowed_access': unknown access right 'fly'
            Hint: known rights here: execute, write_file, read_file, read_dir, remove_dir, remove_file, make_char, make_dir, make_reg, make_sock, make_fifo, make_block, make_sym, refer, truncate, ioctl_dev, resolve_unix, and the groups abi.all, abi.read_execute, abi.read_write

            """)
        config(
            "port.toml", "[[net_port]]\nallowed_access = [\"bind_tcp\"]\nport = [80, 70000]\n",
            """
            landlock-exec: error: FILE:3: key 'port': 70000 is not a valid port
            Hint: ports range from 0 to 65535

            """)
        config(
            "type.toml", "abi = \"5\"\n",
            """
            landlock-exec: error: FILE:1: key 'abi': expected an integer, found a string
            Hint: write a number without quotes

            """)
        config(
            "group.toml", "[[ruleset]]\nhandled_access_fs = [\"abi.all\"]\n",
            """
            landlock-exec: error: FILE:2: key 'handled_access_fs': 'abi.all' depends on the ABI, but the file has no 'abi'
            Hint: add abi = 5 (the ABI the policy was written for) at the top of the file

            """)
        config(
            "syntax.toml", "abi = 5\n[[ruleset]\n",
            """
            landlock-exec: error: FILE:2: expected ']]' after the table name 'ruleset', found the end of the line
            Hint: see the landlockconfig format in 'landlock-exec run --help' and landlock-exec(1)

            """)
        config(
            "json.json", "{\n  \"abi\": 5,\n  \"netPort\": [{\"allowedAccess\": [\"bind_tcp\"], \"port\": [\"80\"]}]\n}\n",
            """
            landlock-exec: error: FILE:3: key 'port': expected an integer, found a string
            Hint: write a number without quotes

            """)
        config(
            "bad.json", "{\n  \"abi\": 5,\n  \"ruleset\": [{\"handledAccessFs\": [\"abi.all\"],}]\n}\n",
            """
            landlock-exec: error: FILE:3: expected a quoted key, found '}'
            Hint: see the landlockconfig format in 'landlock-exec run --help' and landlock-exec(1)

            """)
        let missing = exec(["--config", scratch.path + "/absent.toml", "--", "true"])
        #expect(missing.status == 64)
        #expect(missing.standardError.hasPrefix("landlock-exec: error: Failed to open the policy file \"\(scratch.path)/absent.toml\": No such file or directory (ENOENT)\n"))
    }
}

extension String {
    func replacing(_ old: String, with new: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: old) {
            result += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
