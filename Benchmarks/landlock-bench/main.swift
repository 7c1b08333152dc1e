// SPDX-License-Identifier: Apache-2.0
// landlock-bench: what the sandbox costs, side by side with native, in one run.
//
//   landlock-bench run [--quick] [--guest] [--rounds N] [--seconds S] [--spawns N]
//                      [--only startup,udp,stream,memory] [--landlock-exec PATH] [--compare-landlock-exec PATH] [--state TEXT]
//   landlock-bench workload NAME [--seconds S] [--udp-port P] [--tcp-port P] [--dir DIR] [--result-fd FD] [--allow-all-filter] [--trap-floor]
//   landlock-bench nest --udp-port P --tcp-port P -- PROGRAM [ARGUMENT...]
//   landlock-bench memory --children N [--variant supervisor|kernel]
//   landlock-bench list
//
// Benchmarks/run.sh builds it in release mode and runs `run`; see Benchmarks/README.md.
#if canImport(Glibc)
    import Glibc
#endif

let usage = """
    usage: landlock-bench run [--quick] [--guest] [--rounds N] [--seconds S] [--spawns N]
                              [--only startup,udp,stream,memory] [--landlock-exec PATH] [--compare-landlock-exec PATH] [--state TEXT]
           landlock-bench workload NAME [--seconds S] [--udp-port P] [--tcp-port P] [--dir DIR] [--result-fd FD] [--allow-all-filter] [--trap-floor]
           landlock-bench nest --udp-port P --tcp-port P -- PROGRAM [ARGUMENT...]
           landlock-bench memory --children N [--variant supervisor|kernel|native]
           landlock-bench list
    """

let arguments = Array(CommandLine.arguments.dropFirst(2))
guard let command = CommandLine.arguments.dropFirst().first else { fail(usage) }

/// Takes the value after `name`.
func value(_ name: String, _ index: inout Int) -> String {
    index += 1
    guard index < arguments.count else { fail("\(name) needs a value\n\(usage)") }
    return arguments[index]
}

func number<T: LosslessStringConvertible>(_ name: String, _ text: String) -> T {
    guard let parsed = T(text) else { fail("\(name): not a valid value: \(text)") }
    return parsed
}

switch command {
case "run":
    var driver = Driver()
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--quick": driver.quick = true
        case "--guest": driver.guest = true
        case "--rounds": driver.rounds = number(argument, value(argument, &index))
        case "--seconds": driver.seconds = number(argument, value(argument, &index))
        case "--spawns": driver.startupIterations = number(argument, value(argument, &index))
        case "--landlock-exec": driver.landlockExec = value(argument, &index)
        case "--compare-landlock-exec": driver.comparedLandlockExec = value(argument, &index)
        case "--state": driver.state = value(argument, &index)
        case "--only":
            driver.groups = Set(value(argument, &index).split(separator: ",").map(String.init))
            let unknown = driver.groups.subtracting(["startup", "udp", "stream", "memory"])
            if !unknown.isEmpty { fail("--only: unknown group(s) \(unknown.sorted())") }
        default: fail("unknown argument \(argument)\n\(usage)")
        }
        index += 1
    }
    driver.run()
case "workload":
    guard let name = arguments.first, let workload = Workload(rawValue: name) else {
        fail("workload: expected one of \(Workload.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    var options = WorkloadOptions()
    var index = 1
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--seconds": options.seconds = number(argument, value(argument, &index))
        case "--udp-port": options.udpPort = number(argument, value(argument, &index))
        case "--tcp-port": options.tcpPort = number(argument, value(argument, &index))
        case "--dir": options.directory = value(argument, &index)
        case "--result-fd": options.resultFD = number(argument, value(argument, &index))
        case "--allow-all-filter": options.allowAllFilter = true
        case "--trap-floor": options.trapFloor = true
        default: fail("unknown argument \(argument)\n\(usage)")
        }
        index += 1
    }
    if workload.isUDP && workload != .udpBind && options.udpPort == 0 { options.udpPort = freePort(udpType) }
    if !workload.isUDP && options.tcpPort == 0 { options.tcpPort = freePort(streamType) }
    workload.run(options)
case "nest":
    // Inside the supervised sandbox of the `nested` variant: start PROGRAM in a nested one.
    var udpPort: UInt16 = 0, tcpPort: UInt16 = 0
    var index = 0
    while index < arguments.count, arguments[index] != "--" {
        let argument = arguments[index]
        switch argument {
        case "--udp-port": udpPort = number(argument, value(argument, &index))
        case "--tcp-port": tcpPort = number(argument, value(argument, &index))
        default: fail("unknown argument \(argument)\n\(usage)")
        }
        index += 1
    }
    let program = Array(arguments.dropFirst(index + 1))
    guard let path = program.first else { fail("nest: no program\n\(usage)") }
    exit(nest(path: path, arguments: Array(program.dropFirst()), udpPort: udpPort, tcpPort: tcpPort))
case "memory":
    var children = 1
    var variant = Variant.supervisor
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--children": children = number(argument, value(argument, &index))
        case "--variant":
            guard let parsed = Variant(rawValue: value(argument, &index)) else {
                fail("--variant: supervisor, kernel or native")
            }
            variant = parsed
        default: fail("unknown argument \(argument)\n\(usage)")
        }
        index += 1
    }
    memoryWorkload(children: children, variant: variant)
case "list":
    for workload in Workload.allCases { printLine("\(workload.rawValue)\t\(workload.summary)") }
case "-h", "--help", "help":
    printLine(usage)
default:
    fail("unknown command \(command)\n\(usage)")
}
