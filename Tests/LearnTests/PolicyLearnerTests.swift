// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor
import Testing

@testable import landlock_exec

/// The rules `landlock-exec learn` derives from observations, without a kernel.
@Suite("Policy learner")
struct PolicyLearnerTests {
    /// Paths that exist "after the run": the given ones and their ancestors.
    static func environment(_ existing: [String], home: String? = "/home/u", cwd: String? = "/home/u/project")
        -> PolicyLearner.Environment
    {
        var all: Set<String> = ["/"]
        for path in existing {
            var current = path
            while current != "/" {
                all.insert(current)
                current = PolicyLearner.parent(current)
            }
        }
        return .init(home: home, workingDirectory: cwd, exists: { all.contains($0) })
    }

    static func learn(_ observations: [Observation], existing: [String]) -> PolicyLearner {
        var learner = PolicyLearner(environment: environment(existing))
        learner.add(observations)
        return learner
    }

    static func rules(_ learner: PolicyLearner) -> [String: FileSystemAccess] {
        Dictionary(uniqueKeysWithValues: learner.pathRules.map { ($0.path, $0.access) })
    }

    @Test func userDataStaysFileGranular() {
        let learner = Self.learn(
            [Observation(.path("/home/u/project/data/in.txt", .readFile), program: "cat")],
            existing: ["/home/u/project/data/in.txt", "/home/u/project/data/secret.txt"])
        #expect(Self.rules(learner) == ["/home/u/project/data/in.txt": .readFile])
    }

    @Test func systemHierarchiesCollapseForReadingOnly() {
        let learner = Self.learn(
            [
                Observation(.path("/usr/bin/python3.11", [.execute, .readFile]), program: "python3"),
                Observation(.path("/usr/lib/x86_64-linux-gnu/libc.so.6", .readFile), program: "python3"),
                Observation(.path("/usr/local/share/state", [.readFile, .writeFile]), program: "tool"),
                Observation(.path("/etc/ssl/certs/ca.pem", .readFile), program: "curl"),
            ],
            existing: ["/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/local/share/state", "/etc/ssl/certs/ca.pem"])
        #expect(
            Self.rules(learner) == [
                "/usr": [.execute, .readFile], "/usr/local/share/state": .writeFile, "/etc/ssl/certs": .readFile,
            ])
        #expect(learner.pathRules.first { $0.path == "/usr" }?.notes == [.hierarchy])
    }

    @Test func aPythonStandardLibraryCollapsesButNeverTheHome() {
        let stdlib = "/home/u/.pyenv/versions/3.12.1/lib/python3.12"
        let learner = Self.learn(
            [
                Observation(.path(stdlib + "/os.py", .readFile), program: "python3"),
                Observation(.path(stdlib + "/json/__init__.py", .readFile), program: "python3"),
                Observation(.path("/home/u/.gitconfig", .readFile), program: "git"),
            ],
            existing: [stdlib + "/os.py", stdlib + "/json/__init__.py", "/home/u/.gitconfig"])
        #expect(Self.rules(learner) == [stdlib: .readFile, "/home/u/.gitconfig": .readFile])
    }

    @Test func createdAndRemovedPathsGoToTheDirectoryThatExistedBefore() {
        let learner = Self.learn(
            [
                Observation(.path("/home/u/project", .makeDir), program: "git"),
                Observation(.path("/home/u/project/new", []), created: true, program: "git"),
                Observation(.path("/home/u/project/new", .makeReg), program: "git"),
                Observation(.path("/home/u/project/new/file", [.writeFile]), created: true, program: "git"),
                Observation(.path("/home/u/project/tmp.lock", .readFile), program: "git"),
            ],
            // new/file was left behind; tmp.lock was removed.
            existing: ["/home/u/project/new/file"])
        #expect(Self.rules(learner) == ["/home/u/project": [.makeDir, .makeReg, .writeFile, .readFile]])
        #expect(learner.pathRules[0].notes == [.created])
    }

    @Test func processFilesGoToProc() {
        let learner = Self.learn(
            [Observation(.path("/proc/4242/status", .readFile), program: "ps")], existing: ["/proc/4242/status"])
        #expect(Self.rules(learner) == ["/proc": .readFile])
    }

    @Test func rulesCoveredByAnAncestorAreDropped() {
        let learner = Self.learn(
            [
                Observation(.path("/home/u/project", [.readFile, .makeReg]), program: "a"),
                Observation(.path("/home/u/project/x", .readFile), program: "b"),
            ],
            existing: ["/home/u/project/x"])
        #expect(learner.pathRules.map(\.path) == ["/home/u/project"])
        #expect(learner.pathRules[0].users.keys.sorted() == ["a", "b"])
    }

    @Test func portsAndScopes() {
        let learner = Self.learn(
            [
                Observation(.port(443, .connectTCP), program: "curl"),
                Observation(.port(53, .connectSendUDP), program: "curl"),
                Observation(.port(0, .bindUDP), program: "curl"),
                Observation(.crossed(.signal), program: "sh"),
            ],
            existing: [])
        #expect(learner.portRules.map(\.port) == [0, 53, 443])
        #expect(learner.crossed == .signal)
        let file = LearnedPolicyFile(learner: learner, abi: .v6, supervisor: true, variables: [])
        #expect(file.scopes == .abstractUnixSocket)
        #expect(file.handledNetwork == [.bindTCP, .connectTCP, .bindUDP, .connectSendUDP])
    }

    @Test func templatesUseTheLongestVariableAndEscapeDollars() {
        let learner = Self.learn([], existing: [])
        let file = LearnedPolicyFile(
            learner: learner, abi: .v7, supervisor: false, variables: [("home", "/home/u"), ("cwd", "/home/u/project")])
        #expect(file.template("/home/u/project/a$b") == "${cwd}/a$$b")
        #expect(file.template("/home/u/.gitconfig") == "${home}/.gitconfig")
        #expect(file.template("/home/user2/x") == "/home/user2/x")
        #expect(file.template("/home/u") == "${home}")
    }

    @Test func rightsTheABIDoesNotHandleAreLeftOutAndNamed() {
        let learner = Self.learn(
            [Observation(.path("/run/x.sock", .resolveUnix), program: "client")], existing: ["/run/x.sock"])
        let file = LearnedPolicyFile(learner: learner, abi: .v7, supervisor: false, variables: [])
        #expect(file.paths.isEmpty)
        #expect(file.notes == ["used but not handled here (kernel ABI 7), so not restricted: resolve_unix"])
        // The supervisor enforces it before ABI 9.
        let supervised = LearnedPolicyFile(learner: learner, abi: .v7, supervisor: true, variables: [])
        #expect(supervised.paths.map(\.parent) == ["/run/x.sock"])
        #expect(supervised.handledFileSystem.contains(.resolveUnix))
    }

    /// A program names itself (prctl PR_SET_NAME): its name cannot break the file.
    @Test func programNamesCannotBreakTheFile() throws {
        let learner = Self.learn(
            [Observation(.path("/home/u/project/a", .readFile), program: "x\r[y]\u{7F}")], existing: ["/home/u/project/a"])
        let text = LearnedPolicyFile(learner: learner, abi: .v7, supervisor: false, variables: []).text
        #expect(text.contains("# used by x?[y]? (read_file)\n"))
        _ = try PolicyFile.parse(Array(text.utf8), format: .toml, file: "learned.toml")
    }

    /// The written file reads back through the policy-file interpreter as the same rules.
    @Test func theWrittenFileRoundTripsThroughThePolicyInterpreter() throws {
        let learner = Self.learn(
            [
                Observation(.path("/home/u/project/data/in.txt", .readFile), program: "cat"),
                Observation(.path("/home/u/project", [.makeReg, .writeFile]), program: "sh"),
                Observation(.path("/usr/bin/cat", [.execute, .readFile]), program: "cat"),
                Observation(.port(8080, .connectTCP), program: "curl"),
                Observation(.port(9000, .connectTCP), program: "curl"),
            ],
            existing: ["/home/u/project/data/in.txt", "/usr/bin/cat"])
        var file = LearnedPolicyFile(
            learner: learner, abi: .v7, supervisor: true, variables: [("home", "/home/u"), ("cwd", "/home/u/project")])
        file.command = ["sh", "-c", "cat data/in.txt > out\necho it's done"]
        let text = file.text
        let document = try PolicyFile.parse(Array(text.utf8), format: .toml, file: "learned.toml")
        #expect(text.hasPrefix("# A landlockconfig policy written by `landlock-exec learn` from a run of:\n#   sh -c \"cat data/in.txt > out\\necho it's done\"\n"))
        #expect(document.abi == .v7)
        #expect(document.handledFileSystem == FileSystemAccess.all(in: .v7).union(.resolveUnix))
        #expect(document.scopes == Scope.all(in: .v7))
        #expect(document.variables.map(\.name) == ["cwd"])
        #expect(document.pathRules.map(\.text) == ["${cwd}", "${cwd}/data/in.txt", "/usr"])
        #expect(document.pathRules.map(\.access) == [[.makeReg, .writeFile], .readFile, [.execute, .readFile]])
        #expect(document.portRules.map(\.port) == [8080, 9000])
        #expect(text.contains("# used by cat (read_file)\n[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"${cwd}/data/in.txt\"]\n"))

        // --append: a second run's file merged with the first keeps both, with their comments.
        var second = LearnedPolicyFile(
            learner: Self.learn([Observation(.path("/home/u/project/b.txt", .readFile), program: "less")], existing: ["/home/u/project/b.txt"]),
            abi: .v7, supervisor: true,
            variables: LearnedPolicyFile.variables(home: "/home/u", workingDirectory: "/home/u/project", previous: document.variables))
        second.merge(previous: document, comments: LearnedPolicyFile.comments(in: text))
        let merged = try PolicyFile.parse(Array(second.text.utf8), format: .toml, file: "merged.toml")
        #expect(merged.pathRules.map(\.text) == ["${cwd}", "${cwd}/b.txt", "${cwd}/data/in.txt", "/usr"])
        #expect(merged.portRules.map(\.port) == [8080, 9000])
        #expect(second.text.contains("# used by cat (read_file)\n[[path_beneath]]\nallowed_access = [\"read_file\"]\nparent = [\"${cwd}/data/in.txt\"]\n"))
        #expect(second.text.contains("# used by less (read_file)\n"))
    }
}
