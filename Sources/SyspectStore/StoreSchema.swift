/// The versioned schema of the results store, shared by SQLite and PostgreSQL.
///
/// THE list of migrations lives here and only here. To change the schema, append a migration
/// with the next version; never edit one that has shipped. Both stores record the applied
/// migrations in the same table, `grdb_migrations(identifier)` (GRDB's own table on SQLite,
/// the same table created by `PostgresStore` on PostgreSQL); the schema version of a database
/// is the highest version recorded there.
///
/// Room is left for later tables (sub-features, pseudo-files, impact runs): each comes as a
/// new migration keyed to `measurement.id` or `exploration.key`.
public enum StoreSchema {
    /// One schema step: a version number, a short name, and its statements per dialect.
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        let statements: @Sendable (SQLDialect) -> [String]

        /// The statements of this step in `dialect`.
        public func statements(for dialect: SQLDialect) -> [String] { statements(dialect) }

        /// The key recorded in `grdb_migrations`, e.g. "0001-initial".
        public var identifier: String {
            let digits = String(version)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "-" + name
        }

        /// The version encoded in a recorded identifier (its leading digits), if any.
        static func version(ofIdentifier identifier: String) -> Int? {
            Int(identifier.prefix { $0.isNumber })
        }
    }

    /// Every migration, in order.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "initial", statements: initial),
        Migration(version: 2, name: "features-and-files", statements: featuresAndFiles),
        Migration(version: 3, name: "impact", statements: impact),
        Migration(version: 4, name: "static-analysis", statements: staticAnalysis),
        Migration(version: 5, name: "suite-cases", statements: suiteCases),
        Migration(version: 6, name: "priors-source", statements: priorsSource),
        Migration(version: 7, name: "planned-probes", statements: plannedProbes),
        Migration(version: 8, name: "tokens-and-pushes", statements: tokensAndPushes),
    ]

    /// The version this build writes and understands.
    public static var currentVersion: Int { migrations.last!.version }

    /// The table both stores record applied migrations in.
    public static let versionTable = "grdb_migrations"

    /// SQLite `PRAGMA application_id` of a syspect database ('SYSP').
    static let sqliteApplicationID: Int32 = 0x5359_5350

    /// The schema version of a database given the identifiers recorded in it (0 when empty).
    /// Throws `newerSchema` when a recorded migration is newer than this build, and
    /// `unknownMigration` for a foreign identifier: a newer database is never migrated down or
    /// written to.
    public static func version(ofApplied applied: Set<String>, location: String) throws -> Int {
        let known = Set(migrations.map(\.identifier))
        var version = 0
        for identifier in applied {
            guard known.contains(identifier) else {
                if let v = Migration.version(ofIdentifier: identifier), v > currentVersion {
                    throw StoreError.newerSchema(
                        location: location,
                        found: applied.compactMap(Migration.version(ofIdentifier:)).max()!,
                        known: currentVersion)
                }
                throw StoreError.unknownMigration(location: location, identifier: identifier)
            }
            version = max(version, Migration.version(ofIdentifier: identifier)!)
        }
        return version
    }

    // MARK: - Version 1

    /// Measurements with one row per (syscall, verdict) and per static-analysis hit;
    /// explorations with their census and probe journal.
    private static func initial(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE measurement (
                id \(d.autoIncrementPrimaryKey),
                app TEXT NOT NULL CHECK (app <> ''),
                workload TEXT NOT NULL CHECK (workload <> ''),
                kind TEXT NOT NULL CHECK (kind IN ('health', 'benchmark', 'suite')),
                source TEXT NOT NULL CHECK (source <> ''),
                static_binary_known INTEGER NOT NULL DEFAULT 0,
                static_sources_known INTEGER NOT NULL DEFAULT 0,
                UNIQUE (app, workload, source)
            )
            """,
            """
            CREATE TABLE measurement_verdict (
                measurement_id BIGINT NOT NULL REFERENCES measurement(id) ON DELETE CASCADE,
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                name TEXT,
                verdict TEXT NOT NULL CHECK (verdict IN ('required', 'stub', 'fake', 'either')),
                PRIMARY KEY (measurement_id, syscall)
            )
            """,
            "CREATE INDEX measurement_verdict_syscall ON measurement_verdict (syscall, verdict)",
            """
            CREATE TABLE measurement_static (
                measurement_id BIGINT NOT NULL REFERENCES measurement(id) ON DELETE CASCADE,
                analysis TEXT NOT NULL CHECK (analysis IN ('binary', 'sources')),
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                PRIMARY KEY (measurement_id, analysis, syscall)
            )
            """,
            """
            CREATE TABLE exploration (
                key TEXT PRIMARY KEY,
                app TEXT NOT NULL,
                workload TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('health', 'benchmark', 'suite')),
                spec_hash TEXT NOT NULL,
                spec_text TEXT NOT NULL,
                strategy TEXT NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION,
                probe_count INTEGER NOT NULL DEFAULT 0,
                wall_seconds DOUBLE PRECISION NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX exploration_app ON exploration (app, workload)",
            """
            CREATE TABLE census_entry (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                arch TEXT NOT NULL,
                number INTEGER NOT NULL,
                name TEXT NOT NULL,
                calls BIGINT NOT NULL,
                failures BIGINT NOT NULL,
                errnos TEXT NOT NULL,
                PRIMARY KEY (exploration_key, arch, number)
            )
            """,
            """
            CREATE TABLE probe (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                policy TEXT NOT NULL,
                replica INTEGER NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
                reason TEXT NOT NULL,
                exit_status INTEGER,
                duration_seconds DOUBLE PRECISION NOT NULL,
                metric DOUBLE PRECISION,
                started_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (exploration_key, policy, replica)
            )
            """,
        ]
    }

    // MARK: - Version 2

    /// Per exploration: the sub-feature census with each probed sub-feature's verdict, the
    /// pseudo-file census with whether absent (ENOENT) / stub (ENOSYS) passed, and the non-zero
    /// fake values that made a fake work (issue 5, docs/explore.md).
    private static func featuresAndFiles(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE feature_finding (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                feature_key TEXT NOT NULL,
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                argument TEXT NOT NULL,
                name TEXT NOT NULL,
                match_json TEXT NOT NULL,
                calls BIGINT NOT NULL,
                failures BIGINT NOT NULL,
                verdict TEXT CHECK (verdict IN ('required', 'stub', 'fake', 'either')),
                PRIMARY KEY (exploration_key, feature_key)
            )
            """,
            "CREATE INDEX feature_finding_syscall ON feature_finding (syscall, verdict)",
            """
            CREATE TABLE file_finding (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                path TEXT NOT NULL CHECK (path LIKE '/%'),
                calls_json TEXT NOT NULL,
                failures BIGINT NOT NULL,
                absent_passes INTEGER CHECK (absent_passes IN (0, 1)),
                stub_passes INTEGER CHECK (stub_passes IN (0, 1)),
                PRIMARY KEY (exploration_key, path)
            )
            """,
            """
            CREATE TABLE fake_value (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                rule TEXT NOT NULL CHECK (rule <> ''),
                PRIMARY KEY (exploration_key, syscall)
            )
            """,
        ]
    }

    // MARK: - Version 3

    /// Resource use per probe (sampled from /proc while the workload ran), and the impact
    /// analysis: its journal of interleaved baseline/policy runs and its results per
    /// (exploration, syscall, mode), one comparison row per measure (docs/impact.md).
    private static func impact(_ d: SQLDialect) -> [String] {
        let resources = """
            peak_rss_bytes BIGINT, peak_hwm_bytes BIGINT, peak_fds INTEGER, cpu_seconds DOUBLE PRECISION,
            resource_wall_seconds DOUBLE PRECISION, peak_processes INTEGER, samples INTEGER,
            sampler_cpu_seconds DOUBLE PRECISION
            """
        return [
            """
            CREATE TABLE probe_resources (
                exploration_key TEXT NOT NULL,
                policy TEXT NOT NULL,
                replica INTEGER NOT NULL,
                \(resources),
                PRIMARY KEY (exploration_key, policy, replica),
                FOREIGN KEY (exploration_key, policy, replica)
                    REFERENCES probe(exploration_key, policy, replica) ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE impact_run (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                mode TEXT NOT NULL CHECK (mode IN ('stub', 'fake')),
                arm TEXT NOT NULL CHECK (arm IN ('baseline', 'policy')),
                run INTEGER NOT NULL CHECK (run >= 1),
                outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
                reason TEXT NOT NULL,
                metric DOUBLE PRECISION,
                duration_seconds DOUBLE PRECISION NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                \(resources),
                PRIMARY KEY (exploration_key, syscall, mode, arm, run)
            )
            """,
            """
            CREATE TABLE impact_result (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                syscall INTEGER NOT NULL CHECK (syscall >= 0),
                mode TEXT NOT NULL CHECK (mode IN ('stub', 'fake')),
                app TEXT NOT NULL,
                baseline_runs INTEGER NOT NULL,
                policy_runs INTEGER NOT NULL,
                policy_failures INTEGER NOT NULL,
                test TEXT NOT NULL,
                alpha DOUBLE PRECISION NOT NULL,
                threshold DOUBLE PRECISION NOT NULL,
                metric_better TEXT NOT NULL CHECK (metric_better IN ('higher', 'lower')),
                metric_name TEXT,
                measured_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (exploration_key, syscall, mode)
            )
            """,
            "CREATE INDEX impact_result_app ON impact_result (app)",
            """
            CREATE TABLE impact_comparison (
                exploration_key TEXT NOT NULL,
                syscall INTEGER NOT NULL,
                mode TEXT NOT NULL,
                measure TEXT NOT NULL CHECK (measure IN ('metric', 'fds', 'memory', 'cpu', 'wall')),
                baseline_mean DOUBLE PRECISION NOT NULL,
                policy_mean DOUBLE PRECISION NOT NULL,
                relative_change DOUBLE PRECISION,
                p_value DOUBLE PRECISION,
                flagged INTEGER NOT NULL,
                PRIMARY KEY (exploration_key, syscall, mode, measure),
                FOREIGN KEY (exploration_key, syscall, mode)
                    REFERENCES impact_result(exploration_key, syscall, mode) ON DELETE CASCADE
            )
            """,
        ]
    }

    // MARK: - Version 4

    /// syspect's own static binary analysis (issue 13, docs/static.md): each analysed object
    /// (target binary or library) once per build-id and result, and per exploration the analysis
    /// of its targets (mode, analyser version, missing libraries, the census calls outside the
    /// static set) with its objects in load order. The static set itself is the union of the
    /// objects' sites; the measurement carries it too (`measurement_static`, analysis `binary`).
    private static func staticAnalysis(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE static_object (
                build_id TEXT NOT NULL,
                digest TEXT NOT NULL,
                analyser_version INTEGER NOT NULL,
                path TEXT NOT NULL CHECK (path LIKE '/%'),
                soname TEXT,
                stripped INTEGER NOT NULL CHECK (stripped IN (0, 1)),
                syscall_count INTEGER NOT NULL,
                i386_syscall_count INTEGER NOT NULL,
                unresolved_count INTEGER NOT NULL,
                object_json TEXT NOT NULL,
                PRIMARY KEY (build_id, digest)
            )
            """,
            "CREATE INDEX static_object_path ON static_object (path)",
            """
            CREATE TABLE exploration_static (
                exploration_key TEXT PRIMARY KEY REFERENCES exploration(key) ON DELETE CASCADE,
                mode TEXT NOT NULL CHECK (mode IN ('callGraph', 'wholeLibrary')),
                analyser_version INTEGER NOT NULL,
                targets_json TEXT NOT NULL,
                by_target_json TEXT NOT NULL,
                missing_libraries_json TEXT NOT NULL,
                outside_static_json TEXT NOT NULL,
                analysed_at DOUBLE PRECISION NOT NULL,
                seconds DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE exploration_static_object (
                exploration_key TEXT NOT NULL REFERENCES exploration_static(exploration_key) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                build_id TEXT NOT NULL,
                digest TEXT NOT NULL,
                PRIMARY KEY (exploration_key, position),
                FOREIGN KEY (build_id, digest) REFERENCES static_object(build_id, digest)
            )
            """,
            "CREATE INDEX exploration_static_object_build_id ON exploration_static_object (build_id)",
        ]
    }

    // MARK: - Version 5

    /// Test suites judged test case by test case (issue 14, docs/suites.md): per journaled probe,
    /// the baseline's passing cases (the must-pass set is rebuilt from them on resume) and a
    /// probe's must-pass cases that did not pass (`syspect show` lists them per call).
    private static func suiteCases(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE probe_cases (
                exploration_key TEXT NOT NULL,
                policy TEXT NOT NULL,
                replica INTEGER NOT NULL,
                passed_json TEXT,
                broken_json TEXT NOT NULL,
                PRIMARY KEY (exploration_key, policy, replica),
                FOREIGN KEY (exploration_key, policy, replica)
                    REFERENCES probe(exploration_key, policy, replica) ON DELETE CASCADE
            )
            """,
        ]
    }

    // MARK: - Version 6

    /// Where an exploration's adaptive priors came from (issue 12 item 7): `store` (other
    /// applications in the database), `bundled` (the loupedb data compiled into syspect, named
    /// with its commit in `priors_dataset`) or `none`, with the applications counted. NULL:
    /// another strategy, or explored before this was recorded.
    private static func priorsSource(_ d: SQLDialect) -> [String] {
        [
            "ALTER TABLE exploration ADD COLUMN priors_origin TEXT CHECK (priors_origin IN ('store', 'bundled', 'none'))",
            "ALTER TABLE exploration ADD COLUMN priors_apps INTEGER",
            "ALTER TABLE exploration ADD COLUMN priors_dataset TEXT",
        ]
    }

    // MARK: - Version 7

    /// Probes on a cluster (issue 15, docs/cluster.md): the coordinator's plan, index → probe
    /// request (JSON: policy, replica, census, timeouts, fake values, suite criterion), written
    /// before it submits; the Slurm job it went in; and the outcome the task stored, once (with
    /// the whole run as JSON, the node, and when the coordinator collected it).
    private static func plannedProbes(_ d: SQLDialect) -> [String] {
        [
            """
            CREATE TABLE planned_probe (
                exploration_key TEXT NOT NULL REFERENCES exploration(key) ON DELETE CASCADE,
                probe_index INTEGER NOT NULL CHECK (probe_index >= 0),
                policy TEXT NOT NULL,
                replica INTEGER NOT NULL,
                census INTEGER NOT NULL CHECK (census IN (0, 1)),
                request_json TEXT NOT NULL,
                planned_at DOUBLE PRECISION NOT NULL,
                job_id BIGINT,
                submissions INTEGER NOT NULL DEFAULT 0,
                outcome TEXT CHECK (outcome IN ('pass', 'fail', 'error')),
                run_json TEXT,
                host TEXT,
                finished_at DOUBLE PRECISION,
                collected_at DOUBLE PRECISION,
                PRIMARY KEY (exploration_key, probe_index)
            )
            """,
        ]
    }
}
