// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `landlock-exec sandboxer`, with the kernel sample's variables.
@Suite("sandboxer mode", .requiresLandlock(.v4))
struct SandboxerTests {
    let base = ["PATH=/usr/bin:/bin"]

    func sandboxer(_ variables: [String], _ command: [String]) -> CLIProcessResult {
        exec(["sandboxer"] + command, environment: base + variables)
    }

    @Test func unsetVariablesLeaveTheirRightsUnhandled() {
        let scratch = Scratch()
        let file = scratch.file("data.txt", "readable\n")
        let listener = Listener()
        // Only LL_TCP_BIND is set (empty): the filesystem and connect are left alone.
        let read = sandboxer(["LL_TCP_BIND="], ["cat", file])
        #expect(read.status == 0, "\(read)")
        #expect(read.standardOutput == "readable\n")
        let connect = sandboxer(["LL_TCP_BIND="], python("socket.create_connection(('127.0.0.1', \(listener.port)), timeout=5)"))
        #expect(connect.status == 0, "\(connect)")
        // Set but empty: handled with no rule, so every bind is denied.
        let bind = sandboxer(["LL_TCP_BIND="], python("socket.socket().bind(('127.0.0.1', 0))"))
        #expect(bind.status == 13, "\(bind)")
    }

    @Test func emptyFileSystemVariableHandlesWithNoRule() {
        let scratch = Scratch()
        let file = scratch.file("data.txt", "x\n")
        let result = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW="], ["cat", file])
        #expect(result.status == 1, "\(result)")
        #expect(result.standardError == "Executing the sandboxed command...\ncat: \(file): Permission denied\n")
    }

    @Test func listsAreColonSeparated() {
        let scratch = Scratch()
        let allowed = scratch.file("a/data.txt", "a\n")
        let denied = scratch.file("b/data.txt", "b\n")
        let rw = scratch.directory("c")
        let variables = ["LL_FS_RO=/usr:\(scratch.path)/a:/nonexistent-path", "LL_FS_RW=\(rw)"]
        let read = sandboxer(variables, ["sh", "-c", "cat \(allowed); echo c > \(rw)/out; cat \(denied)"])
        #expect(read.status == 1, "\(read)")
        #expect(read.standardOutput == "a\n")
        #expect(
            read.standardError == """
                landlock-exec: warning: skipped "/nonexistent-path": No such file or directory (ENOENT)
                Executing the sandboxed command...
                cat: \(denied): Permission denied

                """)
        #expect(readFile(rw + "/out") == "c\n")
        let listener = Listener()
        let other = freePort()
        let ports = ["LL_FS_RO=/usr", "LL_FS_RW=", "LL_TCP_CONNECT=\(other):\(listener.port)"]
        let connect = sandboxer(ports, python("socket.create_connection(('127.0.0.1', \(listener.port)), timeout=5)"))
        #expect(connect.status == 0, "\(connect)")
    }

    @Test func variablesAreRemovedFromTheEnvironment() {
        let result = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW=", "LL_TCP_BIND=", "LL_SCOPED=a:s", "OTHER=1"], ["env"])
        #expect(result.status == 0, "\(result)")
        #expect(result.standardOutput == "PATH=/usr/bin:/bin\nOTHER=1\n")
    }

    @Test(.requiresLandlock(.v6)) func scopedVariable() {
        let me = getpid()
        let scoped = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW=", "LL_SCOPED=s"], ["sh", "-c", "kill -0 \(me)"])
        #expect(scoped.status != 0, "\(scoped)")
        let unscoped = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW="], ["sh", "-c", "kill -0 \(me)"])
        #expect(unscoped.status == 0, "\(unscoped)")
    }

    @Test func nestedSandboxerAddsALayer() {
        let scratch = Scratch()
        let inner = scratch.file("inner.txt", "inner\n")
        let tool = CLIProcess.productsDirectory
        // The outer layer allows the scratch directory; the inner one does not.
        let outer = ["LL_FS_RO=/usr:/opt:/etc:/proc:\(tool):\(scratch.path)", "LL_FS_RW="]
        let both = sandboxer(outer, ["sh", "-c", "cat \(inner); env LL_FS_RO=/usr:/opt:/etc:/proc:\(tool) LL_FS_RW= \(landlockExec) sandboxer cat \(inner)"])
        #expect(both.status == 1, "\(both)")
        #expect(both.standardOutput == "inner\n")
        #expect(both.standardError.hasSuffix("cat: \(inner): Permission denied\n"))
        // And the inner layer cannot widen the outer one.
        let denied = scratch.file("other/denied.txt", "no\n")
        let outerOnlyTool = ["LL_FS_RO=/usr:/opt:/etc:/proc:\(tool)", "LL_FS_RW="]
        let widen = sandboxer(outerOnlyTool, ["env", "LL_FS_RO=/usr:/opt:/etc:/proc:\(tool):\(scratch.path)", "LL_FS_RW=", landlockExec, "sandboxer", "cat", denied])
        #expect(widen.status == 1, "\(widen)")
        #expect(widen.standardError.hasSuffix("cat: \(denied): Permission denied\n"))
    }

    @Test func invalidValuesExit64AndStartNothing() {
        let scratch = Scratch()
        let touch = ["touch", scratch.path + "/marker"]
        let port = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW=", "LL_TCP_BIND=80:http"], touch)
        #expect(port.status == 64)
        #expect(
            port.standardError == """
                landlock-exec: error: Failed to parse port at "http" in LL_TCP_BIND
                Hint: ports are numbers from 0 to 65535, separated by colons, as in LL_TCP_BIND=80:443

                """)
        let scope = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW=", "LL_SCOPED=a:a"], touch)
        #expect(scope.status == 64)
        #expect(scope.standardError.hasPrefix("landlock-exec: error: Unknown or duplicate scope \"a\" in LL_SCOPED\n"))
        let log = sandboxer(["LL_FS_RO=/usr", "LL_FS_RW=", "LL_FORCE_LOG=yes"], touch)
        #expect(log.status == 64)
        #expect(log.standardError.hasPrefix("landlock-exec: error: Unknown value for LL_FORCE_LOG (only \"1\" is handled)\n"))
        let nothing = sandboxer([], touch)
        #expect(nothing.status == 64)
        #expect(nothing.standardError.hasPrefix("landlock-exec: error: Nothing to restrict: none of the LL_* variables is set\n"))
        #expect(!scratch.exists("marker"))
    }
}
