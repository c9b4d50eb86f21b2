import Foundation
import SyspectCore
import SyspectTrace
import Testing

/// Stub and fake, in the kernel and through the tracer, observed by the fixture's `expect` mode
/// (it exits 0 only when every call returned the expected value).
@Suite(.serialized) struct InterpositionTests {
    let fixture = Products.fixture
    let getppid = 110

    func run(_ expected: Int64, _ interposition: Interposition, census: Bool = false, targets: [String] = [])
        throws -> TraceResult
    {
        try Tracer.run(LaunchOptions(
            arguments: [fixture, "expect", "110", "5", String(expected)], targets: targets, census: census,
            interposition: interposition))
    }

    @Test func withoutPolicyTheCallRuns() throws {
        // The check that the others can fail: getppid returns a real pid, not -ENOSYS or 0.
        #expect(try run(-38, Interposition()).exitCode == 1)
        #expect(try run(0, Interposition()).exitCode == 1)
    }

    @Test func stubInTheKernelReturnsENOSYS() throws {
        let result = try run(-38, Interposition(stub: [getppid]))
        #expect(result.exitCode == 0)
        #expect(result.interposed.isEmpty, "applied by the kernel, not counted")
    }

    @Test func fakeInTheKernelReturnsZero() throws {
        #expect(try run(0, Interposition(fake: [getppid: 0])).exitCode == 0)
    }

    @Test func fakeWithAValueGoesThroughTheTracer() throws {
        let result = try run(4242, Interposition(fake: [getppid: 4242]))
        #expect(result.exitCode == 0)
        #expect(result.interposed == [getppid: 5])
    }

    @Test func withCensusTheTracerAppliesAndCountsThePolicy() throws {
        let result = try run(-38, Interposition(stub: [getppid]), census: true, targets: [fixture])
        #expect(result.exitCode == 0)
        #expect(result.interposed == [getppid: 5])
        #expect(result.entry(getppid)?.errnos == ["ENOSYS": 5])
    }

    @Test func tracerPolicyAppliesOnlyToTargets() throws {
        let policy = Interposition(stub: [getppid], inKernel: false)
        #expect(try run(-38, policy, targets: ["syspect-fixture"]).exitCode == 0)
        let other = try run(-38, policy, targets: ["sleep"])
        #expect(other.exitCode == 1, "the fixture is not a target: its calls run")
        #expect(other.targetsNeverRun == ["sleep"])
    }

    @Test func stubbedExecveStillLaunchesTheCommand() throws {
        // The launch's own exec passes; the fixture's vfork + exec is then refused.
        let result = try Tracer.run(LaunchOptions(
            arguments: [fixture, "vfork", "exit", "0"], census: false, interposition: Interposition(stub: [59])))
        #expect(result.exitCode == 1, "the child's execve got ENOSYS")
        #expect(result.interposed == [59: 1])
        let faked = try Tracer.run(LaunchOptions(
            arguments: [fixture, "exit", "0"], census: false, interposition: Interposition(fake: [59: 0, 322: 0])))
        #expect(faked.exitCode == 0)
    }
}
