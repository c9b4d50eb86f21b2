import CSyspect

/// ptrace requests, options and events syspect uses (linux/ptrace.h).
enum Ptrace {
    static let cont: Int32 = 7
    static let syscall: Int32 = 24
    static let getEventMsg: Int32 = 0x4201
    static let listen: Int32 = 0x4208

    static let options: UInt = 0x01 /* TRACESYSGOOD */ | 0x02 /* TRACEFORK */ | 0x04 /* TRACEVFORK */
        | 0x08 /* TRACECLONE */ | 0x10 /* TRACEEXEC */ | 0x80 /* TRACESECCOMP */ | 0x10_0000 /* EXITKILL */

    static let eventFork: Int32 = 1
    static let eventVfork: Int32 = 2
    static let eventClone: Int32 = 3
    static let eventExec: Int32 = 4
    static let eventSeccomp: Int32 = 7
    static let eventStop: Int32 = 128

    static let syscallInfoEntry: UInt8 = 1
    static let syscallInfoExit: UInt8 = 2
    static let syscallInfoSeccomp: UInt8 = 3

    /// Resumes a stopped tracee; ESRCH (killed meanwhile) is normal and ignored.
    @inline(__always)
    static func resume(_ request: Int32, _ tid: Int32, signal: Int32 = 0) {
        _ = csy_ptrace(request, tid, 0, UInt(signal))
    }

    static func eventMessage(_ tid: Int32) -> UInt {
        var message: UInt = 0
        _ = withUnsafeMutablePointer(to: &message) { csy_ptrace(getEventMsg, tid, 0, UInt(bitPattern: $0)) }
        return message
    }
}
