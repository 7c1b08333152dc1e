// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Builds a C helper of the tests (a `.c.txt` source, so that SwiftPM does not compile it as
/// part of a target) with gcc as a static binary, in a directory of its own that everyone may
/// enter (some tests run helpers as nobody). Returns its path, or `nil` when gcc is missing or
/// the build fails (tests then skip with a reason).
public func buildCHelper(source: String, named name: String) -> String? {
    let directory = "/tmp/swift-landlock-\(name)-\(getpid())"
    mkdir(directory, 0o755)
    chmod(directory, 0o755)
    let output = directory + "/" + name
    let status = system("gcc -O2 -pthread -static -x c -o '\(output)' '\(source)' 2>/dev/null")
    return status == 0 ? output : nil
}
