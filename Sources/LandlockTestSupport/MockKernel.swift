// SPDX-License-Identifier: Apache-2.0
package import Landlock
package import SystemPackage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A kernel made of closures: any ABI, any errno, and a log of every call. Give its
/// ``kernel`` to `Ruleset.create(kernel:)`, `LandlockStatus(kernel:)` or `SandboxedCommand`.
package final class MockKernel: Sendable {
    /// One system call as the library made it.
    package enum Call: Equatable, CustomStringConvertible {
        case createRuleset(fs: UInt64, net: UInt64, scoped: UInt64, quietFS: UInt64, quietNet: UInt64, quietScoped: UInt64, size: Int)
        case addPathBeneath(access: UInt64, path: String, flags: UInt32)
        case addNetPort(access: UInt64, port: UInt64, flags: UInt32)
        case restrictSelf(flags: UInt32)
        case restrictChild(flags: UInt32)
        case setNoNewPrivileges
        case open(String)
        case close(String)

        package var description: String {
            switch self {
            case .createRuleset(let fs, let net, let scoped, _, _, _, let size):
                "create_ruleset(fs=0x\(String(fs, radix: 16)), net=0x\(String(net, radix: 16)), scoped=0x\(String(scoped, radix: 16)), size=\(size))"
            case .addPathBeneath(let access, let path, let flags): "add_rule(path=\(path), access=0x\(String(access, radix: 16)), flags=\(flags))"
            case .addNetPort(let access, let port, let flags): "add_rule(port=\(port), access=0x\(String(access, radix: 16)), flags=\(flags))"
            case .restrictSelf(let flags): "restrict_self(flags=\(flags))"
            case .restrictChild(let flags): "child: restrict_self(flags=\(flags))"
            case .setNoNewPrivileges: "prctl(NO_NEW_PRIVS)"
            case .open(let path): "open(\(path))"
            case .close(let path): "close(\(path))"
            }
        }
    }

    struct State {
        var calls: [Call] = []
        var openPaths: [Int32: String] = [:]
        var nextFD: Int32 = 100
    }

    package let version: Result<Int, Errno>
    /// Paths that exist: `true` for directories.
    package let files: [String: Bool]
    package let failures: [String: Errno]
    let state = Mutex(State())

    /// - Parameters:
    ///   - abi: what the version query returns, or the errno it fails with.
    ///   - files: existing paths (`true` = directory).
    ///   - failures: syscalls to fail, by name: `create`, `add`, `restrict`, `nnp`.
    package init(abi: Result<Int, Errno>, files: [String: Bool] = [:], failures: [String: Errno] = [:]) {
        self.version = abi
        self.files = files
        self.failures = failures
    }

    package convenience init(abi: Int, files: [String: Bool] = [:], failures: [String: Errno] = [:]) {
        self.init(abi: .success(abi), files: files, failures: failures)
    }

    package var calls: [Call] { state.withLock { $0.calls } }
    /// Descriptors opened and not closed.
    package var leakedDescriptors: [String] { state.withLock { Array($0.openPaths.values) } }

    private func record(_ call: Call) { state.withLock { $0.calls.append(call) } }

    package var kernel: LandlockKernel {
        LandlockKernel(
            abiVersion: { () throws(Errno) in try self.version.get() },
            errata: { () throws(Errno) in 0 },
            createRuleset: { attributes throws(Errno) in
                self.record(.createRuleset(
                    fs: attributes.handledFileSystem, net: attributes.handledNetwork, scoped: attributes.scoped,
                    quietFS: attributes.quietFileSystem, quietNet: attributes.quietNetwork,
                    quietScoped: attributes.quietScoped, size: attributes.size))
                if let error = self.failures["create"] { throw error }
                return self.state.withLock { state in
                    state.nextFD += 1
                    state.openPaths[state.nextFD] = "<ruleset>"
                    return state.nextFD
                }
            },
            addPathBeneath: { _, access, parent, flags throws(Errno) in
                let path = self.state.withLock { $0.openPaths[parent] ?? "?" }
                self.record(.addPathBeneath(access: access, path: path, flags: flags))
                if let error = self.failures["add"] { throw error }
            },
            addNetPort: { _, access, port, flags throws(Errno) in
                self.record(.addNetPort(access: access, port: port, flags: flags))
                if let error = self.failures["add"] { throw error }
            },
            restrictSelf: { _, flags throws(Errno) in
                self.record(.restrictSelf(flags: flags))
                if let error = self.failures["restrict"] { throw error }
            },
            restrictChild: { _, flags in self.record(.restrictChild(flags: flags)) },
            setNoNewPrivileges: { () throws(Errno) in
                self.record(.setNoNewPrivileges)
                if let error = self.failures["nnp"] { throw error }
            },
            openPath: { path throws(Errno) in
                self.record(.open(path))
                guard let isDirectory = self.files[path] else { throw Errno.noSuchFileOrDirectory }
                if let error = self.failures["open"] { throw error }
                return self.state.withLock { state in
                    state.nextFD += 1
                    state.openPaths[state.nextFD] = path
                    return LandlockKernel.OpenedPath(fd: state.nextFD, isDirectory: isDirectory)
                }
            },
            close: { fd in
                self.state.withLock { state in
                    if let path = state.openPaths.removeValue(forKey: fd) { state.calls.append(.close(path)) }
                }
            }
        )
    }
}
