// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Landlock
import LandlockSupervisor
import SandboxSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A port or an inclusive range of ports, as given on the command line: `443` or `8000-8010`.
struct PortRange: Hashable {
    var ports: ClosedRange<Int>

    /// Port options take the next word whatever it is (`.unconditionalSingleValue`), so that
    /// `--connect-tcp -1` is told it is out of range instead of "Missing value".
    static func parse(_ text: String) throws -> PortRange {
        if text.hasPrefix("-"), text.count > 1, text.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ValidationError("port \(text) is out of range; ports range from 0 to 65535.")
        }
        func port(_ part: Substring) throws -> Int {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }), part.count <= 6, let value = Int(part)
            else { throw ValidationError("'\(text)' is not a port number or a range such as 8000-8010.") }
            guard NetPort.validPorts.contains(value) else {
                throw ValidationError("port \(value) is out of range; ports range from 0 to 65535.")
            }
            return value
        }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let low = try port(parts[0])
        let high = parts.count == 2 ? try port(parts[1]) : low
        guard low <= high else {
            throw ValidationError("the range '\(text)' is empty; write the lower port first, as in \(high)-\(low).")
        }
        return PortRange(ports: low...high)
    }
}

/// A network right that can be left alone with `--unrestricted`.
enum NetworkRightName: String, CaseIterable, ExpressibleByArgument {
    case bindTCP = "bind-tcp", connectTCP = "connect-tcp", bindUDP = "bind-udp", connectUDP = "connect-udp"
    case tcp, udp, bind, connect

    var access: NetworkAccess {
        switch self {
        case .bindTCP: .bindTCP
        case .connectTCP: .connectTCP
        case .bindUDP: .bindUDP
        case .connectUDP: .connectSendUDP
        case .tcp: .tcp
        case .udp: .udp
        case .bind: [.bindTCP, .bindUDP]
        case .connect: [.connectTCP, .connectSendUDP]
        }
    }
}

/// A scope that can be lifted with `--unscoped`.
enum ScopeName: String, CaseIterable, ExpressibleByArgument {
    case abstractUnixSocket = "abstract-unix-socket", signal, all

    var scope: Scope {
        switch self {
        case .abstractUnixSocket: .abstractUnixSocket
        case .signal: .signal
        case .all: .all(in: .v6)
        }
    }
}

struct FileSystemOptions: ParsableArguments {
    @Option(name: .customLong("ro"), help: ArgumentHelp("Allow reading files and listing directories beneath PATH.", valueName: "path"))
    var readOnly: [String] = []

    @Option(name: .customLong("rox"), help: ArgumentHelp("Like --ro, and allow executing files beneath PATH.", valueName: "path"))
    var readExecute: [String] = []

    @Option(name: .customLong("rw"), help: ArgumentHelp(
        "Allow reading, writing, creating, removing, renaming and truncating beneath PATH (not executing).",
        valueName: "path"))
    var readWrite: [String] = []

    @Option(name: .customLong("rwx"), help: ArgumentHelp("Like --rw, and allow executing files beneath PATH.", valueName: "path"))
    var readWriteExecute: [String] = []

    @Flag(help: "Also allow the default policy's system paths when other filesystem options are given.")
    var system = false

    @Flag(help: "Skip paths that do not exist instead of refusing to run.")
    var ignoreMissing = false

}

struct NetworkOptions: ParsableArguments {
    // Port options take the next word whatever it is: `--connect-tcp -1` is a value.
    @Option(name: .customLong("bind-tcp"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Allow binding TCP sockets to PORT (or a range such as 8000-8010).", valueName: "port"),
            transform: PortRange.parse)
    var bindTCP: [PortRange] = []

    @Option(name: .customLong("connect-tcp"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Allow connecting TCP sockets to remote PORT.", valueName: "port"),
            transform: PortRange.parse)
    var connectTCP: [PortRange] = []

    @Option(name: .customLong("bind-udp"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Allow binding UDP sockets to PORT; port 0 covers the automatic bind on first connect or send.",
        valueName: "port"), transform: PortRange.parse)
    var bindUDP: [PortRange] = []

    @Option(name: .customLong("connect-udp"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Allow connecting UDP sockets to, and sending datagrams to, remote PORT (CONNECT_SEND_UDP).",
        valueName: "port"), transform: PortRange.parse)
    var connectUDP: [PortRange] = []

    @Flag(help: "Allow what a DNS resolver needs: read resolv.conf, hosts and nsswitch.conf; TCP and UDP to port 53; the automatic UDP bind.")
    var allowDNS = false

    @Flag(help: "Leave networking alone: no network right is handled.")
    var unrestrictedNet = false

    @Option(help: ArgumentHelp(
        "Who enforces the UDP rights on kernels without Landlock ABI 10, and fs.resolve_unix (pathname UNIX sockets) on kernels without ABI 9: auto (the supervisor when needed), always (UDP: even on ABI 10), never (not enforced there, and the command is exec'd in place).",
        valueName: "mode"))
    var udpSupervisor: UDPSupervisorMode = .auto

    @Flag(help: ArgumentHelp(
        "Print each denial on standard error, one line in the shape of a Landlock audit record plus the option that would allow it: files, TCP, UDP, pathname UNIX sockets, scopes.",
        discussion: "Source here: landlock-exec observes the command's calls (seccomp user notification, through the supervisor when it runs) and checks them against the policy; the kernel's audit records are not read. The command runs as a child of landlock-exec. In a sandbox nested in a supervised one, only UDP denials are logged."))
    var logDenials = false

    @Flag(help: ArgumentHelp(
        "Keep CAP_NET_RAW and CAP_NET_ADMIN. By default a command that has them (root) loses them whenever a network right is handled: Landlock does not restrict raw and packet sockets, which would bypass the network rules."))
    var keepNetworkCapabilities = false

    @Flag(name: .customLong("allow-mptcp-sctp"), help: ArgumentHelp(
        "Let the command open MPTCP and SCTP sockets. By default, while TCP rights are handled, a seccomp filter refuses them (EPROTONOSUPPORT, so programs fall back to TCP): Landlock's TCP rights do not check them."))
    var allowMPTCPAndSCTP = false

    @Option(name: .customLong("unrestricted"), help: ArgumentHelp(
        "Leave one network right unhandled (repeatable).",
        valueName: "right"))
    var unrestricted: [NetworkRightName] = []


    func validate() throws {
        try RunOptions.checkNetwork(
            explicit: RunOptions.explicitAccess(bindTCP, connectTCP, bindUDP, connectUDP),
            unrestrictedNet: unrestrictedNet, unrestricted: unrestricted)
    }
}

struct ScopeOptions: ParsableArguments {
    @Option(name: .customLong("unscoped"), help: ArgumentHelp(
        "Lift one IPC scope (repeatable); both are on by default.",
        valueName: "scope"))
    var unscoped: [ScopeName] = []
}

struct LoggingOptions: ParsableArguments {
    @Flag(name: .customLong("log-same-exec-off"), help: "Do not audit denials of landlock-exec itself before it executes the command (LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF).")
    var logSameExecOff = false

    @Flag(name: .customLong("log-new-exec-on"), help: "Audit the command's denials; the kernel does not log denials after execve by default (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON).")
    var logNewExecOn = false

    @Flag(name: .customLong("log-subdomains-off"), help: "Do not audit the sandboxes the command nests inside this one (LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF).")
    var logSubdomainsOff = false
}

struct EnvironmentOptions: ParsableArguments {
    @Flag(help: "Start the command with an empty environment (add variables back with --env).")
    var clearEnv = false

    @Option(name: .customLong("env"), help: ArgumentHelp(
        "Set KEY to VALUE, or with --clear-env keep KEY from the current environment (repeatable).",
        valueName: "key[=value]"))
    var env: [String] = []

    func validate() throws { try RunOptions.checkEnvironment(env) }
}

extension LandlockExec {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run COMMAND in a Landlock sandbox (the default subcommand).",
            discussion: """
                FILESYSTEM: only the paths named with --ro, --rox, --rw and --rwx are accessible, \
                with exactly those rights; executing is allowed only beneath --rox and --rwx paths. \
                A missing path stops the launch unless --ignore-missing is given. Without any \
                filesystem option (and without --config) the default policy applies: read and \
                execute /usr, /bin, /sbin, /lib*, /opt; read /etc, /dev/zero, /dev/random, \
                /dev/urandom; read and write /dev/null, and /dev/tty (the controlling terminal, which \
                the command usually holds already: prompts and full-screen programs work; other \
                terminals in /dev/pts stay denied). --system adds it to explicit options.

                NETWORK: every network right (TCP bind and connect, UDP bind and connect/send) is \
                denied unless a --bind-*/--connect-* option allows a port. --unrestricted-net \
                leaves networking alone; --unrestricted RIGHT leaves one right alone (for example \
                --unrestricted connect restricts binds but not outbound traffic). The kernel \
                enforces the UDP rights from Linux 7.2 (Landlock ABI 10); on older kernels a \
                supervisor (seccomp user notification) enforces them with the same meaning, \
                and the command runs as a child of landlock-exec. Where the supervisor cannot \
                run (inside another supervised sandbox, or a container that blocks \
                pidfd_getfd), --bind-udp and --connect-udp are refused and the default UDP \
                restriction is reported as not enforced.

                SCOPES: signals and abstract UNIX sockets are confined to the sandbox by default; \
                --unscoped lifts them.

                STRICT MODE: if anything you asked for cannot be enforced by this kernel, \
                landlock-exec refuses to run (exit 125) and says what and why; --best-effort runs \
                anyway and prints what was dropped. Defaults the kernel cannot enforce are \
                reported as a warning (silence it with --quiet).

                The command keeps the environment (unless --clear-env) and every file descriptor \
                it is given, as with env(1).

                PROCESSES: without the supervisor, landlock-exec becomes the command (execve): \
                its pid, exit status and signals are the command's, and a daemon it starts \
                outlives it as usual. With the supervisor (on kernels without Landlock ABI 10 \
                whenever UDP is restricted, as it is by default), the command runs as a child of \
                landlock-exec, which passes on the signals it receives (not those the terminal \
                already sent to the command's process group), and whose threads serve the \
                sandbox's UDP calls. It adopts the command's orphans (a child subreaper) and \
                exits only when every process of the sandbox has ended, with the command's own \
                status (or its signal, without a core dump of its own): a command that starts a \
                daemon keeps landlock-exec running until the daemon ends, and signals sent to \
                landlock-exec meanwhile go to the processes left.

                EXIT STATUS: the command's own status when it runs; 64 for an invalid command \
                line or policy file and 125 when the sandbox cannot be set up (nothing is started \
                in either case); 126 when the command cannot be executed (for example when the \
                sandbox denies executing it); 127 when it is not found.
                """)

        @OptionGroup(title: "Filesystem") var fileSystem: FileSystemOptions
        @OptionGroup(title: "Network") var network: NetworkOptions
        @OptionGroup(title: "Scopes") var scope: ScopeOptions
        @OptionGroup(title: "Audit logging (Landlock ABI 7)") var logging: LoggingOptions
        @OptionGroup(title: "Environment") var environment: EnvironmentOptions

        @Option(help: ArgumentHelp(
            "Read the policy from a landlockconfig file (TOML or JSON), or from the *.toml and *.json files of a directory; repeatable: the files compose, and filesystem and port options add to them.",
            valueName: "file"))
        var config: [String] = []

        @Flag(help: "Print the effective policy (after composing --config files and options), each rule with where it comes from and who enforces each right here; run nothing.")
        var printPolicy = false

        @Flag(help: "With --print-policy, print the policy as JSON.")
        var json = false

        @Flag(help: "Run even if the kernel cannot enforce everything asked, and print what was dropped.")
        var bestEffort = false

        @Flag(name: .shortAndLong, help: "Print what is enforced on standard error before running the command.")
        var verbose = false

        @Flag(name: .shortAndLong, help: "Do not warn about default restrictions this kernel cannot enforce.")
        var quiet = false

        @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to run, after --.", valueName: "command"))
        var command: [String] = []

        /// The command and its arguments, without the `--` that introduces them.
        var commandLine: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

        func validate() throws {
            let options = RunOptions(self)
            try options.validateFlags()
            if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(Self.self) }
            if let first = command.first, first != "--", first.hasPrefix("-") {
                throw ValidationError("Unknown option '\(first)'. To run a command whose name starts with '-', put it after --.")
            }
            try options.validateCommand()
        }

        func run() throws { try RunOptions(self).run() }
    }
}
