// SPDX-License-Identifier: Apache-2.0
import Landlock
import SandboxSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LandlockExec {
    /// The kernel's `samples/landlock/sandboxer`, driven by the same variables.
    enum Sandboxer {
        /// `sandboxer COMMAND...`: no options; the words are the command.
        static let spec = CommandSpec<[String]>(
            name: "sandboxer",
            abstract: "Drop-in for the kernel's samples/landlock/sandboxer, configured by LL_* variables.",
            discussion: """
                Reads the kernel sample's variables and removes them from the command's \
                environment. Lists are colon-separated. A variable left unset leaves its rights \
                unhandled; set but empty, it handles them with no rule (everything denied).

                  LL_FS_RO             paths to read and execute beneath
                  LL_FS_RW             paths to read, write and execute beneath
                                       (the filesystem is handled when either is set)
                  LL_TCP_BIND          TCP ports to bind
                  LL_TCP_CONNECT       TCP ports to connect to
                  LL_UDP_BIND          UDP ports to bind (0: automatic bind)
                  LL_UDP_CONNECT_SEND  UDP ports to connect or send to
                  LL_SCOPED            a (abstract UNIX sockets) and/or s (signals)
                  LL_FORCE_LOG         1: audit the command's denials
                  LL_FS_QUIET          paths whose denials are not audited (ABI 10)
                  LL_NET_QUIET         ports whose denials are not audited (ABI 10)
                  LL_QUIET_ACCESS      which denials are quiet: r (read), w (write),
                                       b (bind), c (connect), a and s (the scopes);
                                       unset: every handled right, no scope

                As in the kernel sample, the restrictions are best effort: what this kernel \
                cannot enforce is dropped, but always reported on standard error. Missing paths \
                are skipped with a warning. Running it inside its own sandbox adds a layer.

                Differences from the kernel sample: with neither LL_FS_RO nor LL_FS_RW set the \
                filesystem is left alone (the sample refuses to run), invalid values exit 64 and a \
                sandbox that cannot be set up exits 125 (the sample exits 1).

                Example: LL_FS_RO=/usr:/etc LL_FS_RW=/tmp LL_TCP_CONNECT=443 landlock-exec sandboxer curl https://example.org
                """,
            options: [],
            operands: .passthrough(help: "The command to run."),
            setCommand: { $0 = $1 },
            validate: { commandLine in
                guard !commandLine.isEmpty else {
                    throw ValidationError("Missing the command to run, as in: LL_FS_RO=/usr LL_FS_RW= landlock-exec sandboxer ls")
                }
            })

        static let variables = [
            "LL_FS_RO", "LL_FS_RW", "LL_TCP_BIND", "LL_TCP_CONNECT", "LL_UDP_BIND", "LL_UDP_CONNECT_SEND",
            "LL_SCOPED", "LL_FORCE_LOG", "LL_FS_QUIET", "LL_NET_QUIET", "LL_QUIET_ACCESS",
        ]

        static func launch(_ commandLine: [String]) throws {
            let variables = Dictionary(ProcessEnvironment.pairs, uniquingKeysWith: { _, last in last })
            var policy = try Self.policy(from: variables)
            policy.bestEffort = true
            policy.requireLandlock = true
            let environment = ProcessEnvironment.pairs.filter { !Self.variables.contains($0.0) }.map { "\($0.0)=\($0.1)" }
            Launcher.launch(
                LaunchRequest(policy: policy, command: commandLine, environment: environment, announce: true, warnIgnoredPaths: true))
        }

        /// The policy the kernel sample's variables describe.
        /// One port of a colon-separated `LL_*` list, checked as the kernel sample does.
        static func port<Text: StringProtocol>(_ text: Text, in variable: String) throws -> Int {
            guard text.allSatisfy({ $0.isASCII && $0.isNumber }), text.count <= 6, let port = Int(text),
                NetPort.validPorts.contains(port)
            else {
                throw ToolFailure(
                    "Failed to parse port at \"\(text)\" in \(variable)",
                    hints: ["ports are numbers from 0 to 65535, separated by colons, as in \(variable)=80:443"],
                    status: ExitStatus.usage)
            }
            return port
        }

        static func policy(from variables: [String: String]) throws -> SandboxPolicy {
            var policy = SandboxPolicy()
            let read: FileSystemAccess = [.execute, .readFile, .readDir]
            let readWrite = FileSystemAccess.all(in: FileSystemGrant.policyABI)
            func list(_ name: String) -> [String]? {
                variables[name].map { $0.split(separator: ":").map(String.init) }
            }
            if variables["LL_FS_RO"] != nil || variables["LL_FS_RW"] != nil {
                policy.explicitFileSystem = readWrite
                for path in list("LL_FS_RO") ?? [] {
                    policy.paths.append(.init(path: path, access: read, ignoreIfMissing: true, source: "LL_FS_RO"))
                }
                for path in list("LL_FS_RW") ?? [] {
                    policy.paths.append(.init(path: path, access: readWrite, ignoreIfMissing: true, source: "LL_FS_RW"))
                }
            }
            let networkVariables: [(String, NetworkAccess)] = [
                ("LL_TCP_BIND", .bindTCP), ("LL_TCP_CONNECT", .connectTCP), ("LL_UDP_BIND", .bindUDP),
                ("LL_UDP_CONNECT_SEND", .connectSendUDP),
            ]
            for (name, access) in networkVariables {
                guard let ports = list(name) else { continue }
                policy.explicitNetwork.insert(access)
                for text in ports {
                    policy.ports.append(.init(port: try Self.port(text, in: name), access: access, source: name))
                }
            }
            if let scoped = variables["LL_SCOPED"], !scoped.isEmpty {
                for name in scoped.split(separator: ":", omittingEmptySubsequences: false) {
                    let scope: Scope? = name == "a" ? .abstractUnixSocket : name == "s" ? .signal : nil
                    guard let scope, !policy.explicitScopes.contains(scope) else {
                        throw ToolFailure(
                            "Unknown or duplicate scope \"\(name)\" in LL_SCOPED",
                            hints: ["LL_SCOPED takes a (abstract UNIX sockets) and s (signals), as in LL_SCOPED=a:s"],
                            status: ExitStatus.usage)
                    }
                    policy.explicitScopes.insert(scope)
                }
            }
            if let log = variables["LL_FORCE_LOG"] {
                guard log == "1" else {
                    throw ToolFailure(
                        "Unknown value for LL_FORCE_LOG (only \"1\" is handled)", hints: ["set LL_FORCE_LOG=1 or unset it"],
                        status: ExitStatus.usage)
                }
                policy.restrictFlags.insert(.logNewExecOn)
            }
            try quiet(from: variables, into: &policy)
            guard policy.restrictsSomething else {
                throw ToolFailure(
                    "Nothing to restrict: none of the LL_* variables is set",
                    hints: ["set LL_FS_RO and LL_FS_RW (for example LL_FS_RO=/usr:/etc LL_FS_RW=) or see 'landlock-exec sandboxer --help'"],
                    status: ExitStatus.usage)
            }
            return policy
        }

        /// The quiet variables of Linux 7.2's sample (ABI 10): `LL_FS_QUIET` paths and
        /// `LL_NET_QUIET` ports get quiet rules (they allow nothing; denials of the quiet rights
        /// on them are not audited), and `LL_QUIET_ACCESS` says which rights are quiet. Unset,
        /// every handled filesystem and network right is quiet and no scope is, as in the sample.
        static func quiet(from variables: [String: String], into policy: inout SandboxPolicy) throws {
            let read: FileSystemAccess = [.execute, .readFile, .readDir]
            if let letters = variables["LL_QUIET_ACCESS"] {
                for letter in letters.split(separator: ":") {
                    switch letter {
                    case "r": policy.quietFileSystem.formUnion(read)
                    case "w": policy.quietFileSystem.formUnion(FileSystemAccess.all(in: .newest).subtracting(read))
                    case "b": policy.quietNetwork.formUnion([.bindTCP, .bindUDP])
                    case "c": policy.quietNetwork.formUnion([.connectTCP, .connectSendUDP])
                    case "a": policy.quietScopes.insert(.abstractUnixSocket)
                    case "s": policy.quietScopes.insert(.signal)
                    default:
                        throw ToolFailure(
                            "Unknown quiet access \"\(letter)\" in LL_QUIET_ACCESS",
                            hints: ["LL_QUIET_ACCESS takes r, w (filesystem), b, c (network), a, s (scopes), as in LL_QUIET_ACCESS=r:b"],
                            status: ExitStatus.usage)
                    }
                }
            } else {
                policy.quietFileSystem = policy.handledFileSystem
                policy.quietNetwork = policy.handledNetwork
            }
            if let paths = variables["LL_FS_QUIET"] {
                guard !policy.quietFileSystem.intersection(policy.handledFileSystem).isEmpty else {
                    throw ToolFailure(
                        "LL_FS_QUIET is set, but no handled filesystem right is quiet",
                        hints: ["set LL_FS_RO or LL_FS_RW, and leave LL_QUIET_ACCESS unset or give it r or w"],
                        status: ExitStatus.usage)
                }
                policy.quietPaths = paths.split(separator: ":").map(String.init)
            }
            if let ports = variables["LL_NET_QUIET"] {
                guard !policy.quietNetwork.intersection(policy.handledNetwork).isEmpty else {
                    throw ToolFailure(
                        "LL_NET_QUIET is set, but no handled network right is quiet",
                        hints: ["set LL_TCP_* or LL_UDP_*, and leave LL_QUIET_ACCESS unset or give it b or c"],
                        status: ExitStatus.usage)
                }
                for text in ports.split(separator: ":") {
                    policy.quietPorts.append(try Self.port(text, in: "LL_NET_QUIET"))
                }
            }
        }
    }
}
