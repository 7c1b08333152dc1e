// SPDX-License-Identifier: Apache-2.0
internal import CLandlock
package import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel as the rest of the package sees it: every system call the module makes, as a
/// value. ``system`` calls the real kernel; tests build one from closures to inject any ABI
/// or errno without a kernel, and to record the calls made (`MockKernel` in
/// `LandlockTestSupport`). Package access only: `SandboxedCommand` takes one too.
package struct LandlockKernel: Sendable {
    /// The ruleset attributes, in Swift form.
    package struct RulesetAttributes: Hashable, Sendable {
        package var handledFileSystem: UInt64 = 0
        package var handledNetwork: UInt64 = 0
        package var scoped: UInt64 = 0
        package var quietFileSystem: UInt64 = 0
        package var quietNetwork: UInt64 = 0
        package var quietScoped: UInt64 = 0

        package init() {}

        /// The smallest prefix of `struct landlock_ruleset_attr` that holds every field set,
        /// so that older kernels, which reject unknown non-zero trailing bytes with E2BIG,
        /// accept the struct.
        package var size: Int {
            if quietFileSystem | quietNetwork | quietScoped != 0 { return 48 }
            if scoped != 0 { return 24 }
            if handledNetwork != 0 { return 16 }
            return 8
        }
    }

    /// A path opened for a rule.
    package struct OpenedPath: Sendable {
        package var fd: Int32
        package var isDirectory: Bool

        package init(fd: Int32, isDirectory: Bool) {
            self.fd = fd
            self.isDirectory = isDirectory
        }
    }

    package var abiVersion: @Sendable () throws(Errno) -> Int
    package var errata: @Sendable () throws(Errno) -> UInt64
    package var createRuleset: @Sendable (RulesetAttributes) throws(Errno) -> Int32
    package var addPathBeneath: @Sendable (_ ruleset: Int32, _ access: UInt64, _ parent: Int32, _ flags: UInt32) throws(Errno) -> Void
    package var addNetPort: @Sendable (_ ruleset: Int32, _ access: UInt64, _ port: UInt64, _ flags: UInt32) throws(Errno) -> Void
    package var restrictSelf: @Sendable (_ ruleset: Int32, _ flags: UInt32) throws(Errno) -> Void
    /// A ruleset handed to a child process that restricts itself with it between fork and exec
    /// (`landlock_restrict_self` is then made by the C child, `clandlock_spawn`, where only
    /// async-signal-safe calls are allowed). The real kernel needs nothing here; a mock records
    /// the restriction, so that it sees every one, the spawned children's included.
    package var restrictChild: @Sendable (_ ruleset: Int32, _ flags: UInt32) -> Void = { _, _ in }
    package var setNoNewPrivileges: @Sendable () throws(Errno) -> Void
    package var openPath: @Sendable (String) throws(Errno) -> OpenedPath
    package var close: @Sendable (Int32) -> Void

    package init(
        abiVersion: @escaping @Sendable () throws(Errno) -> Int,
        errata: @escaping @Sendable () throws(Errno) -> UInt64,
        createRuleset: @escaping @Sendable (RulesetAttributes) throws(Errno) -> Int32,
        addPathBeneath: @escaping @Sendable (Int32, UInt64, Int32, UInt32) throws(Errno) -> Void,
        addNetPort: @escaping @Sendable (Int32, UInt64, UInt64, UInt32) throws(Errno) -> Void,
        restrictSelf: @escaping @Sendable (Int32, UInt32) throws(Errno) -> Void,
        restrictChild: @escaping @Sendable (Int32, UInt32) -> Void = { _, _ in },
        setNoNewPrivileges: @escaping @Sendable () throws(Errno) -> Void,
        openPath: @escaping @Sendable (String) throws(Errno) -> OpenedPath,
        close: @escaping @Sendable (Int32) -> Void
    ) {
        self.abiVersion = abiVersion
        self.errata = errata
        self.createRuleset = createRuleset
        self.addPathBeneath = addPathBeneath
        self.addNetPort = addNetPort
        self.restrictSelf = restrictSelf
        self.restrictChild = restrictChild
        self.setNoNewPrivileges = setNoNewPrivileges
        self.openPath = openPath
        self.close = close
    }
}

/// Returns the result, or throws the errno read right after the call.
@inline(never)
private func check(_ result: Int32) throws(Errno) -> Int32 {
    guard result >= 0 else { throw Errno(rawValue: errno) }
    return result
}

extension LandlockKernel {
    package static let system = LandlockKernel(
        abiVersion: { () throws(Errno) in
            Int(try check(clandlock_create_ruleset(nil, 0, UInt32(CLANDLOCK_CREATE_RULESET_VERSION))))
        },
        errata: { () throws(Errno) in
            UInt64(try check(clandlock_create_ruleset(nil, 0, UInt32(CLANDLOCK_CREATE_RULESET_ERRATA))))
        },
        createRuleset: { attributes throws(Errno) in
            var attr = clandlock_ruleset_attr(
                handled_access_fs: attributes.handledFileSystem, handled_access_net: attributes.handledNetwork,
                scoped: attributes.scoped, quiet_access_fs: attributes.quietFileSystem,
                quiet_access_net: attributes.quietNetwork, quiet_scoped: attributes.quietScoped)
            return try check(clandlock_create_ruleset(&attr, attributes.size, 0))
        },
        addPathBeneath: { ruleset, access, parent, flags throws(Errno) in
            var attr = clandlock_path_beneath_attr(allowed_access: access, parent_fd: parent)
            _ = try check(clandlock_add_rule(ruleset, CLANDLOCK_RULE_PATH_BENEATH, &attr, flags))
        },
        addNetPort: { ruleset, access, port, flags throws(Errno) in
            var attr = clandlock_net_port_attr(allowed_access: access, port: port)
            _ = try check(clandlock_add_rule(ruleset, CLANDLOCK_RULE_NET_PORT, &attr, flags))
        },
        restrictSelf: { ruleset, flags throws(Errno) in
            _ = try check(clandlock_restrict_self(ruleset, flags))
        },
        setNoNewPrivileges: { () throws(Errno) in
            _ = try check(clandlock_set_no_new_privs())
        },
        openPath: { path throws(Errno) in
            let fd = try check(clandlock_open_path(path))
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let error = Errno(rawValue: errno)
                Glibc.close(fd)
                throw error
            }
            return OpenedPath(fd: fd, isDirectory: info.st_mode & S_IFMT == S_IFDIR)
        },
        close: { fd in _ = Glibc.close(fd) }
    )
}
