import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helpers to act inside a probe's namespaces from syspect itself.
enum Namespaces {
    private typealias SetnsFunction = @convention(c) (Int32, Int32) -> Int32

    /// glibc's setns(2), looked up at run time (Swift's Glibc module does not export it).
    private static let setnsFunction: SetnsFunction? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "setns") else { return nil }
        return unsafeBitCast(symbol, to: SetnsFunction.self)
    }()

    /// True when `pid` lives in another user namespace than syspect (the unprivileged sandbox):
    /// joining its other namespaces then needs joining that user namespace first.
    static func hasOwnUserNamespace(_ pid: Int32) -> Bool {
        let mine = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/user")
        let theirs = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")
        return theirs != nil && mine != theirs
    }

    /// The `nsenter` arguments that join every namespace of `pid` (the test script's prefix).
    static func nsenterArguments(pid: Int32, workingDirectory: String) -> [String] {
        var args = ["-t", String(pid)]
        if hasOwnUserNamespace(pid) { args += ["-U", "--preserve-credentials"] }
        args += ["-n", "-m", "-i", "-u", "-p", "--wd=\(workingDirectory)", "--"]
        return args
    }

    /// Whether 127.0.0.1:`port` accepts a TCP connection inside the network namespace of `pid`.
    /// A socket is created on a short-lived thread that joined the namespace (a socket keeps the
    /// namespace it was created in); when setns is refused (unprivileged), `nsenter` does it.
    static func portAccepts(pid: Int32, port: Int) -> Bool {
        if let fd = socketInNetworkNamespace(of: pid) {
            defer { close(fd) }
            return connectLoopback(fd, port: port)
        }
        return nsenterPortCheck(pid: pid, port: port)
    }

    private static func socketInNetworkNamespace(of pid: Int32) -> Int32? {
        guard let setns = setnsFunction else { return nil }
        let nsfd = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard nsfd >= 0 else { return nil }
        defer { close(nsfd) }
        let box = ResultBox()
        let thread = Thread {
            // This thread exits right after: its namespace change dies with it.
            if setns(nsfd, 0x4000_0000 /* CLONE_NEWNET */) == 0 {
                box.value = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            }
            box.done.signal()
        }
        thread.start()
        box.done.wait()
        return box.value >= 0 ? box.value : nil
    }

    private final class ResultBox: @unchecked Sendable {
        var value: Int32 = -1
        let done = DispatchSemaphore(value: 0)
    }

    private static func connectLoopback(_ fd: Int32, port: Int) -> Bool {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return rc == 0
    }

    private static func nsenterPortCheck(pid: Int32, port: Int) -> Bool {
        var args = ["-t", String(pid)]
        if hasOwnUserNamespace(pid) { args += ["-U", "--preserve-credentials"] }
        args += ["-n", "--", "/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
