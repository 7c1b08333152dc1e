// SPDX-License-Identifier: Apache-2.0
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

    /// Port options take the next word whatever it is (`OptionSpec.Kind.port`), so that
    /// `--connect-tcp -1` is told it is out of range instead of "Missing value".
    static func parse(_ text: String) throws(ValueError) -> PortRange {
        if text.hasPrefix("-"), text.count > 1, text.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ValueError("port \(text) is out of range; ports range from 0 to 65535.")
        }
        func port(_ part: Substring) throws(ValueError) -> Int {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }), part.count <= 6, let value = Int(part)
            else { throw ValueError("'\(text)' is not a port number or a range such as 8000-8010.") }
            guard NetPort.validPorts.contains(value) else {
                throw ValueError("port \(value) is out of range; ports range from 0 to 65535.")
            }
            return value
        }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        let low = try port(parts[0])
        let high = parts.count == 2 ? try port(parts[1]) : low
        guard low <= high else {
            throw ValueError("the range '\(text)' is empty; write the lower port first, as in \(high)-\(low).")
        }
        return PortRange(ports: low...high)
    }
}

/// A network right that can be left alone with `--unrestricted`.
enum NetworkRightName: String, CaseIterable {
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
enum ScopeName: String, CaseIterable {
    case abstractUnixSocket = "abstract-unix-socket", signal, all

    var scope: Scope {
        switch self {
        case .abstractUnixSocket: .abstractUnixSocket
        case .signal: .signal
        case .all: .all(in: .v6)
        }
    }
}


extension RunOptions {
    /// The `run` subcommand (the default one): its options, in the order of its help.
    static let spec = CommandSpec<RunOptions>(
        name: "run",
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
""",
        options: fileSystemOptions + networkOptions + otherOptions,
        operands: .command(help: "The command to run, after --."),
        setCommand: { $0.commandLine = $1 },
        validate: { try $0.validate() })

    private typealias Option = OptionSpec<RunOptions>

    private static let fileSystemOptions: [Option] = [
        .paths("ro", "Allow reading files and listing directories beneath PATH.") { $0.readOnly.append($1) },
        .paths("rox", "Like --ro, and allow executing files beneath PATH.") { $0.readExecute.append($1) },
        .paths("rw", "Allow reading, writing, creating, removing, renaming and truncating beneath PATH (not executing).") {
            $0.readWrite.append($1)
        },
        .paths("rwx", "Like --rw, and allow executing files beneath PATH.") { $0.readWriteExecute.append($1) },
        .flag("system", "Also allow the default policy's system paths when other filesystem options are given.", group: "Filesystem") {
            $0.system = true
        },
        .flag("ignore-missing", "Skip paths that do not exist instead of refusing to run.", group: "Filesystem") {
            $0.ignoreMissing = true
        },
    ]

    private static let networkOptions: [Option] = [
        .port("bind-tcp", "Allow binding TCP sockets to PORT (or a range such as 8000-8010).") { $0.bindTCP.append($1) },
        .port("connect-tcp", "Allow connecting TCP sockets to remote PORT.") { $0.connectTCP.append($1) },
        .port("bind-udp", "Allow binding UDP sockets to PORT; port 0 covers the automatic bind on first connect or send.") {
            $0.bindUDP.append($1)
        },
        .port("connect-udp", "Allow connecting UDP sockets to, and sending datagrams to, remote PORT (CONNECT_SEND_UDP).") {
            $0.connectUDP.append($1)
        },
        .flag(
            "allow-dns",
            "Allow what a DNS resolver needs: read resolv.conf, hosts and nsswitch.conf; TCP and UDP to port 53; the automatic UDP bind.",
            group: "Network"
        ) { $0.allowDNS = true },
        .flag("unrestricted-net", "Leave networking alone: no network right is handled.", group: "Network") {
            $0.unrestrictedNet = true
        },
        Option(
            long: "udp-supervisor", kind: .choice(UDPSupervisorMode.allCases.map { $0.rawValue }), valueName: "mode",
            help: "Who enforces the UDP rights on kernels without Landlock ABI 10, and fs.resolve_unix (pathname UNIX sockets) on kernels without ABI 9: auto (the supervisor when needed), always (UDP: even on ABI 10), never (not enforced there, and the command is exec'd in place).",
            group: "Network", defaultValue: "auto"
        ) { options, value in if let mode = UDPSupervisorMode(rawValue: value) { options.udpSupervisor = mode } },
        .flag(
            "log-denials",
            "Print each denial on standard error, one line in the shape of a Landlock audit record plus the option that would allow it: files, TCP, UDP, pathname UNIX sockets, scopes.",
            discussion: "Source here: landlock-exec observes the command's calls (seccomp user notification, through the supervisor when it runs) and checks them against the policy; the kernel's audit records are not read. The command runs as a child of landlock-exec. In a sandbox nested in a supervised one, only UDP denials are logged.",
            group: "Network"
        ) { $0.logDenials = true },
        .flag(
            "keep-network-capabilities",
            "Keep CAP_NET_RAW and CAP_NET_ADMIN. By default a command that has them (root) loses them whenever a network right is handled: Landlock does not restrict raw and packet sockets, which would bypass the network rules.",
            group: "Network"
        ) { $0.keepNetworkCapabilities = true },
        .flag(
            "allow-mptcp-sctp",
            "Let the command open MPTCP and SCTP sockets. By default, while TCP rights are handled, a seccomp filter refuses them (EPROTONOSUPPORT, so programs fall back to TCP): Landlock's TCP rights do not check them.",
            group: "Network"
        ) { $0.allowMPTCPAndSCTP = true },
        Option(
            long: "unrestricted", kind: .choice(NetworkRightName.allCases.map { $0.rawValue }), valueName: "right",
            help: "Leave one network right unhandled (repeatable).", group: "Network", repeatable: true
        ) { options, value in if let right = NetworkRightName(rawValue: value) { options.unrestricted.append(right) } },
    ]

    private static let otherOptions: [Option] = [
        Option(
            long: "unscoped", kind: .choice(ScopeName.allCases.map { $0.rawValue }), valueName: "scope",
            help: "Lift one IPC scope (repeatable); both are on by default.", group: "Scopes", repeatable: true
        ) { options, value in if let scope = ScopeName(rawValue: value) { options.unscoped.append(scope) } },
        .flag(
            "log-same-exec-off",
            "Do not audit denials of landlock-exec itself before it executes the command (LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF).",
            group: auditGroup
        ) { $0.logSameExecOff = true },
        .flag(
            "log-new-exec-on",
            "Audit the command's denials; the kernel does not log denials after execve by default (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON).",
            group: auditGroup
        ) { $0.logNewExecOn = true },
        .flag(
            "log-subdomains-off",
            "Do not audit the sandboxes the command nests inside this one (LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF).",
            group: auditGroup
        ) { $0.logSubdomainsOff = true },
        .flag("clear-env", "Start the command with an empty environment (add variables back with --env).", group: "Environment") {
            $0.clearEnv = true
        },
        Option(
            long: "env", kind: .value, valueName: "key[=value]",
            help: "Set KEY to VALUE, or with --clear-env keep KEY from the current environment (repeatable).",
            group: "Environment", repeatable: true
        ) { $0.env.append($1) },
        Option(
            long: "config", kind: .value, valueName: "file",
            help: "Read the policy from a landlockconfig file (TOML or JSON), or from the *.toml and *.json files of a directory; repeatable: the files compose, and filesystem and port options add to them.",
            repeatable: true, completion: .files
        ) { $0.config.append($1) },
        .flag(
            "print-policy",
            "Print the effective policy (after composing --config files and options), each rule with where it comes from and who enforces each right here; run nothing."
        ) { $0.printPolicy = true },
        .flag("json", "With --print-policy, print the policy as JSON.") { $0.json = true },
        .flag("best-effort", "Run even if the kernel cannot enforce everything asked, and print what was dropped.") {
            $0.bestEffort = true
        },
        .flag("verbose", short: "v", "Print what is enforced on standard error before running the command.") { $0.verbose = true },
        .flag("quiet", short: "q", "Do not warn about default restrictions this kernel cannot enforce.") { $0.quiet = true },
    ]

    private static let auditGroup = "Audit logging (Landlock ABI 7)"
}

extension OptionSpec {
    /// A flag: `set` runs each time it is given.
    static func flag(
        _ long: String, short: Unicode.Scalar? = nil, _ help: String, discussion: String = "", group: String = "Options",
        set: @escaping @Sendable (inout Options) -> Void
    ) -> Self {
        Self(long: long, short: short, kind: .flag, help: help, discussion: discussion, group: group) { options, _ in set(&options) }
    }
}

extension OptionSpec where Options == RunOptions {
    /// A repeatable filesystem option: `--ro PATH`.
    static func paths(_ long: String, _ help: String, add: @escaping @Sendable (inout RunOptions, String) -> Void) -> Self {
        Self(long: long, kind: .value, valueName: "path", help: help, group: "Filesystem", repeatable: true, completion: .files, apply: add)
    }

    /// A repeatable port option: `--bind-tcp PORT` or a range.
    static func port(_ long: String, _ help: String, add: @escaping @Sendable (inout RunOptions, PortRange) -> Void) -> Self {
        Self(long: long, kind: .port, valueName: "port", help: help, group: "Network", repeatable: true) { options, value in
            add(&options, try PortRange.parse(value))
        }
    }
}
