import Foundation
import Testing
@testable import SyspectExplore

/// Outputs captured from the real Slurm 22.05.8 that scripts/start-slurm starts (Fixtures/slurm/):
/// a 4-task array `--array=0-3%2` whose task 1 exits 3 and task 2 sleeps and is cancelled.
private func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/slurm/\(name)")
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite("Slurm output parsers and the job-array script")
struct SlurmParserTests {
    @Test func sbatchParsablePrintsTheJobIDOptionallyWithTheCluster() throws {
        #expect(try SlurmOutput.submittedJob("4\n") == 4)
        #expect(try SlurmOutput.submittedJob("812;syspect\n") == 812)
        #expect(try SlurmOutput.submittedJob("sbatch: warning: something\n17\n") == 17)
        #expect(throws: SlurmParseError.self) { try SlurmOutput.submittedJob("") }
        #expect(throws: SlurmParseError.self) { try SlurmOutput.submittedJob("sbatch: error: invalid partition specified: nope\n") }
    }

    @Test func taskIDsOfJobsAndArrayTasks() {
        #expect(SlurmTaskID(parsing: "123") == SlurmTaskID(job: 123))
        #expect(SlurmTaskID(parsing: "123_4") == SlurmTaskID(job: 123, index: 4))
        #expect(SlurmTaskID(parsing: "123_4.batch") == nil)
        #expect(SlurmTaskID(parsing: "123_[1-3]") == nil)
        #expect(SlurmTaskID(parsing: "x") == nil)
        #expect(SlurmTaskID(job: 9, index: 0).description == "9_0")
    }

    @Test func squeueLinesWithAPendingArrayRangeBecomeOneStatusPerIndex() throws {
        let statuses = try SlurmOutput.queueLines(fixture("squeue-pending-array.txt"))
        let array = statuses.filter { $0.task.job == 4 }
        #expect(array.map(\.task) == [0, 1, 2, 3].map { SlurmTaskID(job: 4, index: $0) })
        #expect(array.map(\.state) == [.completed, .failed, .pending, .pending])
        #expect(array[1].reason == "NonZeroExitCode")
        #expect(array[2].reason == "JobArrayTaskLimit")
        #expect(array[0].reason == nil)
        #expect(statuses.filter { $0.task.index == nil }.map(\.task.job) == [1, 2, 3])
    }

    @Test func squeueShowsACancelledTaskAsCancelled() throws {
        let statuses = try SlurmOutput.queueLines(fixture("squeue-cancelled-task.txt"))
        let byTask = Dictionary(uniqueKeysWithValues: statuses.map { ($0.task, $0.state) })
        #expect(byTask[SlurmTaskID(job: 4, index: 2)] == .cancelled)
        #expect(byTask[SlurmTaskID(job: 4, index: 3)] == .completed)
        #expect(SlurmState.cancelled.isLost && SlurmState.cancelled.isFinal)
        #expect(!SlurmState.failed.isLost && SlurmState.failed.isFinal)
        #expect(!SlurmState.running.isFinal && !SlurmState.pending.isFinal)
    }

    @Test func squeueLinesOfTheWrongShapeNameTheLine() {
        do {
            _ = try SlurmOutput.queueLines("4_0|COMPLETED|None\nJOBID STATE\n")
            Issue.record("accepted a header line")
        } catch {
            #expect(error.line == 2)
            #expect(error.description.contains("JOBID STATE"))
        }
        #expect(throws: SlurmParseError.self) { try SlurmOutput.queueLines("abc|RUNNING|None\n") }
    }

    @Test func squeueJSONOfSlurm22() throws {
        let statuses = try SlurmOutput.queueJSON(Data(fixture("squeue-22.05.json").utf8))
        let array = statuses.filter { $0.task.job == 4 }.sorted { $0.task < $1.task }
        #expect(array.map(\.task.index) == [0, 1, 2, 3])
        #expect(array.map(\.state) == [.completed, .failed, .pending, .pending])
        #expect(array[1].reason == "NonZeroExitCode")
        #expect(statuses.contains(SlurmTaskStatus(task: SlurmTaskID(job: 1), state: .completed)))
    }

    @Test func squeueJSONOfSlurm23Numbers() throws {
        // Slurm 23.11+ shape (data_parser v0.0.40): states as lists, numbers boxed.
        let json = """
            {"jobs": [
              {"job_id": 12, "array_job_id": {"set": true, "infinite": false, "number": 10},
               "array_task_id": {"set": true, "infinite": false, "number": 2}, "array_task_string": "",
               "job_state": ["CANCELLED"], "state_reason": "None"},
              {"job_id": 10, "array_job_id": {"set": true, "infinite": false, "number": 10},
               "array_task_id": {"set": false, "infinite": false, "number": 0}, "array_task_string": "3-4",
               "job_state": ["PENDING"], "state_reason": "Resources"}
            ]}
            """
        let statuses = try SlurmOutput.queueJSON(Data(json.utf8))
        #expect(statuses.map(\.task) == [SlurmTaskID(job: 10, index: 2), SlurmTaskID(job: 10, index: 3), SlurmTaskID(job: 10, index: 4)])
        #expect(statuses.map(\.state) == [.cancelled, .pending, .pending])
        #expect(throws: SlurmParseError.self) { try SlurmOutput.queueJSON(Data("squeue: error: ...".utf8)) }
    }

    @Test func sacctLinesSkipStepsAndSplitExitCodes() throws {
        // sacct -n -P -o JobID,State,ExitCode as documented in sacct(1); the Slurm that
        // scripts/start-slurm starts has no slurmdbd, so sacct says "accounting storage is disabled".
        let text = """
            123_0|COMPLETED|0:0
            123_0.batch|COMPLETED|0:0
            123_1|FAILED|3:0
            123_2|CANCELLED by 0|0:15
            123_[3-4]|PENDING|0:0
            """
        let statuses = try SlurmOutput.accountingLines(text)
        #expect(statuses.map(\.task.index) == [0, 1, 2, 3, 4])
        #expect(statuses.map(\.state) == [.completed, .failed, .cancelled, .pending, .pending])
        #expect(statuses[1].exitStatus == 3 && statuses[1].signal == nil)
        #expect(statuses[2].signal == 15)
        #expect(throws: SlurmParseError.self) { try SlurmOutput.accountingLines("123_0|COMPLETED|zero\n") }
    }

    @Test func jobcompLogGivesExitStatusesOfArrayTasks() throws {
        let statuses = try SlurmOutput.completionLines(fixture("jobcomp-filetxt.log"))
        let array = Dictionary(uniqueKeysWithValues: statuses.filter { $0.task.job == 4 }.map { ($0.task.index!, $0) })
        #expect(array.keys.sorted() == [0, 1, 2, 3])
        #expect(array[1]?.state == .failed && array[1]?.exitStatus == 3)
        #expect(array[2]?.state == .cancelled)
        #expect(array[0]?.state == .completed && array[0]?.exitStatus == 0)
        #expect(statuses.contains { $0.task == SlurmTaskID(job: 2) })
        #expect(throws: SlurmParseError.self) { try SlurmOutput.completionLines("UserId=root JobState=COMPLETED\n") }
    }

    @Test func arrayScriptHasOneTaskPerIndexAndTheParallelismBound() {
        let array = SlurmArray(name: "syspect-redis", partition: "batch", indices: Array(0...9), maxRunning: 4,
                               command: ["/opt/syspect bin/syspect", "probe", "--index", "{index}", "--out", "/r/{index}.json"],
                               outputDirectory: "/shared/out", options: ["--time=10:00"])
        #expect(array.problem == nil)
        #expect(array.arraySpec == "0-9%4")
        let lines = array.script.split(separator: "\n").map(String.init)
        #expect(lines.first == "#!/bin/sh")
        #expect(lines.contains("#SBATCH --array=0-9%4"))
        #expect(lines.contains("#SBATCH --partition=batch"))
        #expect(lines.contains("#SBATCH --output=/shared/out/%A_%a.out"))
        #expect(lines.contains("#SBATCH --time=10:00"))
        #expect(lines.last == "exec '/opt/syspect bin/syspect' probe --index \"$SLURM_ARRAY_TASK_ID\" --out /r/\"$SLURM_ARRAY_TASK_ID\".json")
    }

    @Test func arraySpecCompressesResubmittedIndices() {
        var array = SlurmArray(name: "n", partition: "p", indices: [8, 0, 1, 2, 5, 7], command: ["true"], outputDirectory: "/o")
        #expect(array.arraySpec == "0-2,5,7-8")
        #expect(SlurmArray.indices(parsing: "0-2,5,7-8") == [0, 1, 2, 5, 7, 8])
        #expect(SlurmArray.indices(parsing: "1-7:3") == [1, 4, 7])
        #expect(SlurmArray.indices(parsing: "3-1") == nil)
        array.indices = []
        #expect(array.problem == "no probe index to submit")
        array.indices = [1, 1]
        #expect(array.problem == "a probe index is listed twice")
        array.indices = [1]
        array.maxRunning = 0
        #expect(array.problem?.contains("--slurm-max-tasks") == true)
    }

    @Test func errorsNameTheFix() {
        #expect(SlurmError.notInstalled(program: "sbatch").description.contains("--executor local"))
        #expect(SlurmError.noSuchPartition("gpu", available: ["batch", "debug"]).description.contains("pass one of: batch, debug"))
    }

    @Test func noSlurmOnPathIsAClearError() {
        let client = SlurmClient(searchPath: "/nonexistent")
        #expect(throws: SlurmError.notInstalled(program: "sinfo")) { try client.checkPartition("batch") }
    }
}

private let slurmPartition = ProcessInfo.processInfo.environment["SYSPECT_TEST_SLURM_PARTITION"]

/// Real jobs on the Slurm that scripts/start-slurm starts (.ci/run exports the partition).
@Suite(
    "Slurm client against a real Slurm (needs SYSPECT_TEST_SLURM_PARTITION)",
    .serialized,
    .enabled(if: slurmPartition != nil, "SYSPECT_TEST_SLURM_PARTITION is unset: start Slurm with `export SYSPECT_TEST_SLURM_PARTITION=$(scripts/start-slurm)`"))
struct SlurmClientTests {
    let client = SlurmClient(commandTimeout: 20)
    let partition = slurmPartition ?? ""
    let folder = "/var/tmp/syspect-slurm-tests/\(UUID().uuidString.prefix(8))"

    @Test func anArrayOfThreeTasksRunsEachIndexOnce() throws {
        try client.checkPartition(partition)
        let array = SlurmArray(name: "syspect-test", partition: partition, indices: [0, 1, 2], maxRunning: 2,
                               command: ["/bin/sh", "-c", "echo \"$1\" > \(folder)/done-$1", "task", "{index}"],
                               outputDirectory: "\(folder)/out")
        let job = try client.submit(array, scriptFolder: folder)
        let final = try client.waitForCompletion(job: job, timeout: 60)
        #expect(final.keys.sorted() == [0, 1, 2].map { SlurmTaskID(job: job, index: $0) })
        #expect(final.values.allSatisfy { $0.state == .completed })
        for index in 0...2 {
            let text = try String(contentsOfFile: "\(folder)/done-\(index)", encoding: .utf8)
            #expect(text == "\(index)\n")
        }
        #expect(try client.accounting(job: job) == nil || client.accounting(job: job)?.count == 3)
    }

    @Test func aCancelledRunningTaskIsSeenAsCancelled() throws {
        let array = SlurmArray(name: "syspect-test-cancel", partition: partition, indices: [0, 1],
                               command: ["/bin/sh", "-c", "if [ \"$1\" = 1 ]; then touch \(folder)/started-1; sleep 120; fi", "task", "{index}"],
                               outputDirectory: "\(folder)/out")
        let job = try client.submit(array, scriptFolder: folder)
        let victim = SlurmTaskID(job: job, index: 1)
        // Bounded wait for task 1 to be running (its program has started).
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: "\(folder)/started-1") {
            guard Date() < deadline else {
                try? client.cancel(SlurmTaskID(job: job))
                Issue.record("task \(victim) did not start within 30 s: \(try client.queue(job: job))")
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(try client.queue(job: job).first { $0.task == victim }?.state == .running)
        try client.cancel(victim)
        let final = try client.waitForCompletion(job: job, timeout: 30)
        #expect(final[victim]?.state == .cancelled)
        #expect(final[victim]?.state.isLost == true)
        #expect(final[SlurmTaskID(job: job, index: 0)]?.state == .completed)
    }

    @Test func aTaskThatCannotStartEndsFailedWithItsExitStatus() throws {
        let array = SlurmArray(name: "syspect-test-missing", partition: partition, indices: [0],
                               command: ["\(folder)/no-such-program"], outputDirectory: "\(folder)/out")
        let job = try client.submit(array, scriptFolder: folder)
        let final = try client.waitForCompletion(job: job, timeout: 30)
        #expect(final[SlurmTaskID(job: job, index: 0)]?.state == .failed)
        // The exit status (127: exec found nothing) from sacct or the jobcomp log. slurmctld
        // writes the jobcomp line when the task ends: allow it a bounded moment.
        var record: SlurmTaskStatus?
        for _ in 0..<25 {
            record = try client.finishedTasks(job: job)?.first { $0.task.index == 0 }
            if record != nil { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(record?.exitStatus == 127)
    }

    @Test func aPartitionThatDoesNotExistIsAClearError() throws {
        do {
            try client.checkPartition("no-such-partition")
            Issue.record("accepted a partition Slurm does not have")
        } catch {
            guard case .noSuchPartition(let name, let available) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(name == "no-such-partition")
            #expect(available.contains(partition))
        }
    }
}
