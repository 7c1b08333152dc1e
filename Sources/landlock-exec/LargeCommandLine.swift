// SPDX-License-Identifier: Apache-2.0
import ArgumentParser

/// Takes the repeatable options out of a command line before swift-argument-parser sees it.
///
/// swift-argument-parser removes each word it parses from an array, which costs a move of every
/// word after it: n options took O(n²) (8,000 `--ro` about 5.7 s; 20,000 did not finish in
/// 10 s). One linear pass here collects the values of the repeatable options (`--ro`, `--rw`,
/// ports, `--env`, `--config`, ...) and drops repeated boolean flags (a second `--quiet` means
/// nothing more), so that the parser sees a few words whatever the length of the command line;
/// the values are put back into the parsed command, in their order, and checked as the parser
/// would. A value the parser would refuse (a port that is not one, a value that looks like an
/// option) is left in place, so that its message is the parser's.
struct LargeCommandLine {
    /// What a collected option's value must be for the parser to accept it.
    private enum Value {
        case any, port, networkRight, scope, supervisorMode

        /// Whether the parser takes a next word that starts with `-` as the value.
        var unconditional: Bool { self == .port }

        func accepts(_ value: String) -> Bool {
            switch self {
            case .any: true
            case .port: (try? PortRange.parse(value)) != nil
            case .networkRight: NetworkRightName(rawValue: value) != nil
            case .scope: ScopeName(rawValue: value) != nil
            case .supervisorMode: UDPSupervisorMode(rawValue: value) != nil
            }
        }
    }

    /// The options whose values are collected (`--udp-supervisor`: the last one counts).
    private static let collected: [String: Value] = [
        "--ro": .any, "--rox": .any, "--rw": .any, "--rwx": .any, "--env": .any, "--config": .any,
        "--bind-tcp": .port, "--connect-tcp": .port, "--bind-udp": .port, "--connect-udp": .port,
        "--unrestricted": .networkRight, "--unscoped": .scope, "--udp-supervisor": .supervisorMode,
    ]
    /// Boolean flags: a repetition is dropped.
    private static let flags: Set<String> = [
        "--allow-mptcp-sctp", "--system", "--ignore-missing", "--allow-dns", "--unrestricted-net", "--log-denials",
        "--keep-network-capabilities", "--log-same-exec-off", "--log-new-exec-on", "--log-subdomains-off",
        "--clear-env", "--print-policy", "--json", "--best-effort", "--verbose", "-v", "--quiet", "-q",
    ]

    /// The words for the parser.
    private(set) var remaining: [String] = []
    /// The collected values per option, in their order.
    private var values: [String: [String]] = [:]
    /// Where the command (from `--`, or from the first word that is not an option) starts in
    /// `remaining`.
    private var commandStart = 0

    init(_ words: [String]) {
        remaining.reserveCapacity(min(words.count, 64))
        var seenFlags: Set<String> = []
        var index = 0
        while index < words.count {
            let word = words[index]
            // The command starts at `--` or at the first word that is not an option.
            guard word != "--", word.hasPrefix("-") else { break }
            var name = word
            var value: String?
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            }
            if let kind = Self.collected[name] {
                if value == nil, index + 1 < words.count, kind.unconditional || !words[index + 1].hasPrefix("-") {
                    index += 1
                    if kind.accepts(words[index]) {
                        values[name, default: []].append(words[index])
                    } else {
                        remaining += [word, words[index]]
                    }
                } else if let value, kind.accepts(value) {
                    values[name, default: []].append(value)
                } else {
                    remaining.append(word)
                }
            } else if Self.flags.contains(word) {
                if seenFlags.insert(word).inserted { remaining.append(word) }
            } else {
                // Not known here (another option, a combined short flag): left to the parser.
                remaining.append(word)
            }
            index += 1
        }
        commandStart = remaining.count
        remaining += words[index...]
    }

    /// The options of a command line that needs nothing of swift-argument-parser (the fast
    /// path): every word before the command is a collected option with an accepted value or a
    /// known flag, and every check passes. Nil otherwise (a short-flag cluster, `--help`, a
    /// refused value, a failed check...): argument-parser then parses it and has the last word.
    func fastOptions() -> RunOptions? {
        var options = RunOptions()
        for word in remaining[..<commandStart] {
            switch word {
            case "--system": options.system = true
            case "--ignore-missing": options.ignoreMissing = true
            case "--allow-dns": options.allowDNS = true
            case "--unrestricted-net": options.unrestrictedNet = true
            case "--log-denials": options.logDenials = true
            case "--keep-network-capabilities": options.keepNetworkCapabilities = true
            case "--allow-mptcp-sctp": options.allowMPTCPAndSCTP = true
            case "--log-same-exec-off": options.logSameExecOff = true
            case "--log-new-exec-on": options.logNewExecOn = true
            case "--log-subdomains-off": options.logSubdomainsOff = true
            case "--clear-env": options.clearEnv = true
            case "--print-policy": options.printPolicy = true
            case "--json": options.json = true
            case "--best-effort": options.bestEffort = true
            case "--verbose", "-v": options.verbose = true
            case "--quiet", "-q": options.quiet = true
            default: return nil
            }
        }
        let command = remaining[commandStart...]
        options.commandLine = Array(command.first == "--" ? command.dropFirst() : command)
        func list(_ name: String) -> [String] { values[name] ?? [] }
        func ports(_ name: String) -> [PortRange]? { try? list(name).map(PortRange.parse) }
        guard let bindTCP = ports("--bind-tcp"), let connectTCP = ports("--connect-tcp"),
            let bindUDP = ports("--bind-udp"), let connectUDP = ports("--connect-udp")
        else { return nil }
        (options.bindTCP, options.connectTCP, options.bindUDP, options.connectUDP) = (bindTCP, connectTCP, bindUDP, connectUDP)
        options.readOnly = list("--ro")
        options.readExecute = list("--rox")
        options.readWrite = list("--rw")
        options.readWriteExecute = list("--rwx")
        options.env = list("--env")
        options.config = list("--config")
        options.unrestricted = list("--unrestricted").compactMap(NetworkRightName.init(rawValue:))
        options.unscoped = list("--unscoped").compactMap(ScopeName.init(rawValue:))
        if let mode = list("--udp-supervisor").last.flatMap(UDPSupervisorMode.init(rawValue:)) { options.udpSupervisor = mode }
        return (try? options.validate()) != nil ? options : nil
    }

    /// Puts the collected values into `run`, before those the parser found, and checks them
    /// as the parser does after parsing.
    func apply(to run: inout LandlockExec.Run) throws {
        guard !values.isEmpty else { return }
        func list(_ name: String) -> [String] { values[name] ?? [] }
        func ports(_ name: String) throws -> [PortRange] { try list(name).map(PortRange.parse) }
        run.fileSystem.readOnly = list("--ro") + run.fileSystem.readOnly
        run.fileSystem.readExecute = list("--rox") + run.fileSystem.readExecute
        run.fileSystem.readWrite = list("--rw") + run.fileSystem.readWrite
        run.fileSystem.readWriteExecute = list("--rwx") + run.fileSystem.readWriteExecute
        run.network.bindTCP = try ports("--bind-tcp") + run.network.bindTCP
        run.network.connectTCP = try ports("--connect-tcp") + run.network.connectTCP
        run.network.bindUDP = try ports("--bind-udp") + run.network.bindUDP
        run.network.connectUDP = try ports("--connect-udp") + run.network.connectUDP
        run.environment.env = list("--env") + run.environment.env
        run.config = list("--config") + run.config
        run.network.unrestricted = list("--unrestricted").compactMap(NetworkRightName.init(rawValue:)) + run.network.unrestricted
        run.scope.unscoped = list("--unscoped").compactMap(ScopeName.init(rawValue:)) + run.scope.unscoped
        if let mode = list("--udp-supervisor").last.flatMap(UDPSupervisorMode.init(rawValue:)) { run.network.udpSupervisor = mode }
        try run.fileSystem.validate()
        try run.network.validate()
        try run.environment.validate()
        try run.validate()
    }
}
