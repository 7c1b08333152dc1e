// SPDX-License-Identifier: Apache-2.0

/// What to do when the kernel does not support part of a request.
///
/// The levels and their names are those of rust-landlock and go-landlock.
public enum CompatibilityLevel: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Enforce what the kernel supports, drop the rest, and report what was dropped in
    /// ``RestrictionStatus/dropped``. The default: a sandbox that is as strong as the kernel
    /// allows is better than none.
    case bestEffort
    /// If anything requested at this level is unsupported, enforce nothing at all (status
    /// ``RulesetStatus/notEnforced``) without failing. For programs that would rather run
    /// unsandboxed than half-sandboxed in a way they were not tested with.
    case softRequirement
    /// If anything requested at this level is unsupported, fail with
    /// ``LandlockError/Code/incompatible`` and change nothing.
    case hardRequirement

    public var description: String {
        switch self {
        case .bestEffort: "best effort"
        case .softRequirement: "soft requirement"
        case .hardRequirement: "hard requirement"
        }
    }
}

/// The compatibility engine: the only place that decides what an older kernel drops.
///
/// It follows the kernel documentation's degradation table: strip what the ABI does not know
/// from the handled masks, mask each rule with what is left, and skip rules left empty.
struct CompatibilityEngine {
    /// The ABI in effect, or `nil` when Landlock is unavailable.
    let abi: LandlockABI?
    let status: LandlockStatus
    /// What was dropped so far.
    var dropped = DroppedRequests()
    /// Set when a soft requirement was not met: the ruleset must not be enforced.
    var disabled = false
    /// Set once degraded when the kernel gets no ruleset: Landlock is missing, a soft
    /// requirement was not met, or every handled right and scope was dropped.
    var enforcesNothing = false

    init(status: LandlockStatus) {
        self.status = status
        self.abi = status.abi
    }

    /// Degrades one request. Returns the part to keep; records or rejects the rest.
    ///
    /// - Parameters:
    ///   - requested: what the caller asked for.
    ///   - level: the compatibility level of this request.
    ///   - what: the request, for messages ("handled access", "the rule for \"/usr\"").
    ///   - minimumABI: an extra floor (e.g. ABI 10 for quiet masks); `nil` for none.
    mutating func degrade<Bits: LandlockBitmask>(
        _ requested: Bits, level: CompatibilityLevel, what: String, minimumABI: LandlockABI? = nil
    ) throws(LandlockError) -> Bits {
        var supported: Bits = []
        if let abi, abi >= (minimumABI ?? .v1) { supported = requested.supported(in: abi) }
        let unsupported = requested.subtracting(supported)
        guard !unsupported.isEmpty else { return requested }
        switch level {
        case .bestEffort:
            break
        case .softRequirement:
            disabled = true
        case .hardRequirement:
            throw incompatibility(unsupported, what: what, minimumABI: minimumABI)
        }
        return supported
    }

    /// The error for a hard requirement the kernel does not meet.
    func incompatibility<Bits: LandlockBitmask>(
        _ unsupported: Bits, what: String, minimumABI: LandlockABI? = nil
    ) -> LandlockError {
        let needed = max(unsupported.minimumABI ?? .newest, minimumABI ?? .v1)
        let kernel: String
        switch status {
        case .available(let abi, _): kernel = "the kernel provides Landlock \(abi) (Linux \(abi.linuxVersion))"
        case .notEnabled: kernel = "Landlock is not enabled in this kernel"
        case .notImplemented: kernel = "this kernel does not implement Landlock"
        }
        return LandlockError(
            .incompatible,
            "Failed to meet a hard requirement for \(what): \(unsupported) needs Landlock \(needed) "
                + "(Linux \(needed.linuxVersion)) but \(kernel)")
    }

    /// The error when Landlock itself is missing and a hard requirement asks for it.
    func unavailable(what: String) -> LandlockError {
        let sentence: String
        switch status {
        case .notEnabled: sentence = "Landlock is not enabled in this kernel (EOPNOTSUPP)"
        default: sentence = "this kernel does not implement Landlock (ENOSYS)"
        }
        return LandlockError(.incompatible, "Failed to meet a hard requirement for \(what): \(sentence)")
    }

    /// The ruleset status once everything is degraded: what the caller asked to restrict
    /// against what is left.
    func rulesetStatus(requested: (FileSystemAccess, NetworkAccess, Scope)) -> RulesetStatus {
        guard abi != nil, !disabled else { return .notEnforced }
        let kept = (
            requested.0.subtracting(dropped.handledFileSystem), requested.1.subtracting(dropped.handledNetwork),
            requested.2.subtracting(dropped.scopes)
        )
        if kept.0.isEmpty && kept.1.isEmpty && kept.2.isEmpty { return .notEnforced }
        return dropped.restrictions.isEmpty ? .fullyEnforced : .partiallyEnforced
    }

    /// The restrict-self flags to pass to the kernel for `flags`, after degradation, and the
    /// status that enforcing the degraded ruleset with them produces (see
    /// ``CreatedRuleset/restrictSelf(flags:compatibility:)``). Pure.
    func restriction(
        flags: RestrictSelfFlags, compatibility: CompatibilityLevel, singleThreaded: Bool, enforces: Bool,
        requested: (FileSystemAccess, NetworkAccess, Scope), ignoredPaths: [String]
    ) throws(LandlockError) -> (kernelFlags: UInt32, status: RestrictionStatus) {
        var engine = self
        var kernelFlags: RestrictSelfFlags = []
        if enforces {
            let asked = flags.subtracting(.noNewPrivileges).subtracting(singleThreaded ? .allThreads : [])
            kernelFlags = try engine.degrade(asked, level: compatibility, what: "the restrict-self flags")
            engine.dropped.restrictSelfFlags = asked.subtracting(kernelFlags)
        } else if compatibility == .hardRequirement, flags.contains(.allThreads), !singleThreaded {
            throw engine.incompatibility(RestrictSelfFlags.allThreads, what: "the restrict-self flags")
        }
        let status = RestrictionStatus(
            ruleset: engine.rulesetStatus(requested: requested), landlock: engine.status,
            noNewPrivileges: flags.contains(.noNewPrivileges),
            allThreads: !enforces || singleThreaded || kernelFlags.contains(.allThreads),
            dropped: engine.dropped, ignoredPaths: ignoredPaths)
        return (UInt32(kernelFlags.rawValue), status)
    }
}
