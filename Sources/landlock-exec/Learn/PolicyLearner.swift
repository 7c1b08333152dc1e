// SPDX-License-Identifier: Apache-2.0
import Landlock
import LandlockSupervisor

/// Turns what a run was seen doing (``Observation``s) into the rules of a landlockconfig
/// policy that allows exactly that: pure, so that every rule of thumb below is unit-tested
/// without a kernel.
///
/// - User data stays file-granular: a file read gets a rule of its own.
/// - What Landlock checks on a directory (creating, removing, renaming: `make_*`,
///   `remove_*`, `refer`) goes to the directory.
/// - A path created during the run (or beneath one) will not exist, or will be another file,
///   next time; its rights go to its nearest ancestor that existed before the run. So does a
///   path that no longer exists when the policy is written (a removed file, `/proc/<pid>/...`).
/// - Hierarchies read as a whole by nature (`/usr`, `/bin`, `/sbin`, `/lib*`,
///   `/etc/ssl/certs`, a Python's `lib/pythonX.Y`) get one rule with the read rights
///   (`read_file`, `read_dir`, `execute`) used beneath them; any other right stays on its path.
///   Nothing collapses to `/` or to the home directory.
/// - A rule whose rights an ancestor's rule already grants is dropped.
struct PolicyLearner {
    /// The facts of the machine the policy is written on.
    struct Environment {
        var home: String?
        var workingDirectory: String?
        /// Whether a path exists now (after the run).
        var exists: (String) -> Bool
    }

    struct PathRule: Equatable {
        var path: String
        var access: FileSystemAccess
        /// Program name → the rights it used.
        var users: [String: FileSystemAccess] = [:]
        var notes: Set<Note> = []
    }

    struct PortRule: Equatable {
        var port: Int
        var access: NetworkAccess
        var users: [String: NetworkAccess] = [:]
    }

    enum Note: String, Hashable, Comparable {
        case hierarchy = "a system hierarchy, allowed as a whole for reading"
        case created = "for paths created or removed during the run, granted on the directory"
        case processFiles = "for /proc/PID files, which have no stable path"

        static func < (a: Note, b: Note) -> Bool { a.rawValue < b.rawValue }
    }

    /// The hierarchies a program reads as a whole by nature.
    static let systemHierarchies = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ssl/certs"]
    static let readRights: FileSystemAccess = [.readFile, .readDir, .execute]

    let environment: Environment

    /// The learned rules, by path and by port, and the scopes that were crossed.
    var paths: [String: PathRule] = [:]
    var ports: [Int: PortRule] = [:]
    var crossed: Scope = []

    init(environment: Environment) {
        self.environment = environment
    }

    /// Adds a run's observations.
    mutating func add(_ observations: [Observation]) {
        var created: Set<String> = []
        for observation in observations where observation.created {
            if case .path(let path, _) = observation.subject { created.insert(path) }
        }
        for observation in observations {
            switch observation.subject {
            case .path(let path, let access):
                guard !access.isEmpty else { continue }
                place(path, access, program: observation.program, created: created)
            case .port(let port, let access):
                ports[port, default: PortRule(port: port, access: [])].access.formUnion(access)
                ports[port]!.users[observation.program, default: []].formUnion(access)
            case .crossed(let scope):
                crossed.formUnion(scope)
            }
        }
    }

    private mutating func place(_ path: String, _ access: FileSystemAccess, program: String, created: Set<String>) {
        var target = path
        var notes: Set<Note> = []
        if let process = Self.processFilesRoot(path) {
            target = process
            notes.insert(.processFiles)
        } else {
            var moved = false
            while target != "/", created.contains(target) || !environment.exists(target) {
                target = Self.parent(target)
                moved = true
            }
            if moved { notes.insert(.created) }
        }
        var rest = access
        if let hierarchy = hierarchy(of: target) {
            let read = access.intersection(Self.readRights)
            if !read.isEmpty {
                grant(hierarchy, read, program: program, notes: [.hierarchy])
                rest.subtract(read)
            }
        }
        if !rest.isEmpty { grant(target, rest, program: program, notes: notes) }
    }

    private mutating func grant(_ path: String, _ access: FileSystemAccess, program: String, notes: Set<Note>) {
        paths[path, default: PathRule(path: path, access: [])].access.formUnion(access)
        paths[path]!.users[program, default: []].formUnion(access)
        paths[path]!.notes.formUnion(notes)
    }

    /// The hierarchy `path` is read as a part of, if any.
    func hierarchy(of path: String) -> String? {
        for root in Self.systemHierarchies where path == root || path.hasPrefix(root + "/") { return root }
        // A Python's standard library: .../lib/pythonX.Y
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for index in components.indices.dropFirst() where components[index - 1] == "lib" {
            let name = components[index]
            guard name.hasPrefix("python"), name.dropFirst(6).contains("."),
                name.dropFirst(6).allSatisfy({ $0.isNumber || $0 == "." })
            else { continue }
            let root = "/" + components[...index].joined(separator: "/")
            guard root != environment.home else { return nil }
            return root
        }
        return nil
    }

    /// `/proc` for the files of a process (`/proc/<pid>/...`).
    static func processFilesRoot(_ path: String) -> String? {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 2, components[0] == "proc", components[1].allSatisfy(\.isNumber) else { return nil }
        return "/proc"
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The rules, without those an ancestor's rule covers, in path order.
    var pathRules: [PathRule] {
        var result: [PathRule] = []
        var kept = paths
        for path in paths.keys.sorted() {
            var ancestor = path
            var covered: FileSystemAccess = []
            var nearest: String? = nil
            while ancestor != "/" {
                ancestor = Self.parent(ancestor)
                if let rule = paths[ancestor] {
                    covered.formUnion(rule.access)
                    if nearest == nil { nearest = ancestor }
                }
            }
            if let nearest, let rule = kept[path], covered.isSuperset(of: rule.access) {
                for (user, access) in rule.users { kept[nearest]?.users[user, default: []].formUnion(access) }
                kept[path] = nil
            }
        }
        for path in kept.keys.sorted() { result.append(kept[path]!) }
        return result
    }

    var portRules: [PortRule] { ports.keys.sorted().map { ports[$0]! } }
}
