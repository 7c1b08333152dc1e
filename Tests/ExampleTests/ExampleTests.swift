// SPDX-License-Identifier: Apache-2.0
import LandlockTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every Swift example of the README and the DocC articles compiles and runs as shown, as
/// top-level code: each is a snippet (`Snippets/`, built by `swift build --build-tests`) that
/// must equal the page's text, and each runs here in a process of its own (they restrict
/// themselves).
@Suite(
    "README and DocC examples",
    .enabled(
        if: access(repositoryRoot + "/Package.swift", F_OK) == 0,
        "The examples are checked in a checkout of the repository (not in the kernel-lane payload)"))
struct ExampleTests {
    static let pages = [
        "README.md", "Sources/Landlock/Documentation.docc/CompatibilityAndBestEffort.md",
        "Sources/Landlock/Documentation.docc/GettingStarted.md", "Sources/Landlock/Documentation.docc/Landlock.md",
        "Sources/Landlock/Documentation.docc/Threads.md", "Sources/Landlock/Documentation.docc/UpgradingBetweenABIs.md",
        "Sources/LandlockSupervisor/Documentation.docc/LandlockSupervisor.md",
    ]

    /// The programs of a page, as `Scripts/update-snippets.py` cuts them: a block that starts
    /// with `import` starts one; a block that does not continues the previous one.
    static func programs(_ text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "```swift\n") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstRange(of: "```") else { break }
            let block = String(rest[..<close.lowerBound])
            rest = rest[close.upperBound...]
            if block.hasPrefix("import ") || result.isEmpty { result.append(block) } else { result[result.count - 1] += "\n" + block }
        }
        return result
    }

    static var snippets: [(page: String, name: String, program: String)] {
        pages.flatMap { page -> [(String, String, String)] in
            let name = String(page.split(separator: "/").last!.dropLast(3))
            guard let text = readText(repositoryRoot + "/" + page) else { return [(page, name + "?", "")] }
            return programs(text).enumerated().map { (page, "\(name)\($0.offset + 1)", $0.element) }
        }
    }

    @Test func everyPageHasItsExamples() {
        let names = Self.snippets.map(\.name)
        #expect(names == ["README1", "README2", "CompatibilityAndBestEffort1", "GettingStarted1", "LandlockSupervisor1"])
    }

    @Test(arguments: snippets.map(\.name))
    func snippetMatchesThePageAndRuns(name: String) throws {
        let snippet = try #require(Self.snippets.first { $0.name == name })
        let file = try #require(readText(repositoryRoot + "/Snippets/\(name).swift"), "Run Scripts/update-snippets.py")
        let body = file.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("//") }.dropFirst()
            .joined(separator: "\n")
        #expect(body == snippet.program, "Snippets/\(name).swift differs from \(snippet.page): run Scripts/update-snippets.py")
        let executable = CLIProcess.product(name)
        try #require(access(executable, X_OK) == 0, "\(executable) is not built: run swift build --build-tests")
        let result = CLIProcess.run(executable, [], environment: ["PATH=/usr/bin:/bin"])
        #expect(result.status == 0, "\(result)")
        if snippet.program.contains("SandboxedCommand(") {
            #expect(result.standardOutput.contains("\nexited with status "), "\(result)")
        }
    }
}

private var repositoryRoot: String {
    var directory = CLIProcess.productsDirectory
    while directory.count > 1 {
        if access(directory + "/Package.swift", F_OK) == 0 { return directory }
        directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
    }
    return "."
}

private func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
