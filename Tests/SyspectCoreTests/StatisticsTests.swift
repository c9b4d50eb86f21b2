import Testing

@testable import SyspectCore

/// Reference values from scipy 1.17.1 (`scipy.stats.ttest_ind(a, b, equal_var=False)`,
/// `scipy.stats.mannwhitneyu(a, b)`, `scipy.stats.t.sf`, `scipy.stats.beta.cdf`).
@Suite struct StatisticsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var a: [Double], b: [Double]
        var t: Double, tP: Double, u: Double, uP: Double
        var testDescription: String { "\(a) vs \(b)" }
    }

    static let cases: [Case] = [
        // Clearly different, no ties (exact Mann–Whitney).
        Case(a: [20.1, 19.8, 20.5, 20.0, 19.9], b: [23.0, 22.5, 23.4, 22.9, 23.1],
             t: -15.38975127948611, tP: 4.509621919882379e-07, u: 0, uP: 0.007936507936507936),
        // Unequal sizes and variances, ties across samples (normal approximation).
        Case(a: [1, 2, 3, 4, 5], b: [2, 4, 6, 8, 10, 12],
             t: -2.3763541031440183, tP: 0.04928433820673053, u: 5, uP: 0.08143973230450288),
        // Not different.
        Case(a: [10.0, 10.2, 9.9, 10.1, 10.0], b: [10.05, 10.1, 9.95, 10.0, 10.2],
             t: -0.2998126755983123, tP: 0.7721745654177632, u: 11, uP: 0.8314844686870179),
        // One sample constant (a file descriptor count), the other almost.
        Case(a: [12, 12, 12, 12, 12], b: [12, 13, 12, 12, 12],
             t: -1, tP: 0.37390096630006026, u: 10, uP: 0.4237107971667934),
        Case(a: [3.1, 2.9, 3.3, 3.0, 3.2, 2.8], b: [3.6, 3.4, 3.9, 3.5, 3.7, 3.3, 3.8],
             t: -4.919349550499539, tP: 0.00045813112492999606, u: 0.5, uP: 0.004222063480510764),
    ]

    static func close(_ x: Double, _ y: Double, relative: Double = 1e-9) -> Bool {
        abs(x - y) <= relative * max(abs(x), abs(y), 1e-300)
    }

    @Test(arguments: cases) func welchMatchesScipy(_ c: Case) throws {
        let r = try #require(Statistics.welch(c.a, c.b))
        #expect(Self.close(r.statistic, c.t), "t \(r.statistic) vs \(c.t)")
        #expect(Self.close(r.pValue, c.tP, relative: 1e-7), "p \(r.pValue) vs \(c.tP)")
    }

    @Test(arguments: cases) func mannWhitneyMatchesScipy(_ c: Case) throws {
        let r = try #require(Statistics.mannWhitney(c.a, c.b))
        #expect(r.statistic == c.u)
        #expect(Self.close(r.pValue, c.uP, relative: 1e-7), "p \(r.pValue) vs \(c.uP)")
    }

    @Test func exactMannWhitneyWithoutTies() throws {
        let r = try #require(Statistics.mannWhitney([1.1, 2.3, 3.5, 4.2, 6.0], [2.0, 5.1, 5.5, 7.3, 8.8, 9.1]))
        #expect(r.statistic == 6)
        #expect(Self.close(r.pValue, 0.12554112554112554))
    }

    @Test func largeSamplesUseTheNormalApproximation() throws {
        let r = try #require(Statistics.mannWhitney((0..<25).map(Double.init), (0..<22).map { Double($0) + 7.5 }))
        #expect(r.statistic == 153)
        #expect(Self.close(r.pValue, 0.009586761541013657, relative: 1e-7))
    }

    @Test func distributions() {
        #expect(Self.close(Statistics.studentTwoSidedP(t: 2.5, df: 7.3), 0.03965023466560043, relative: 1e-9))
        #expect(Self.close(Statistics.studentTwoSidedP(t: -2.5, df: 7.3), 0.03965023466560043, relative: 1e-9))
        #expect(Self.close(Statistics.regularizedIncompleteBeta(a: 2.5, b: 1.5, x: 0.3), 0.08894372317066562, relative: 1e-9))
        #expect(Statistics.studentTwoSidedP(t: 0, df: 4) == 1)
    }

    @Test func pairedMatchesScipy() throws {
        let r = try #require(Statistics.paired([35.9, 45.2, 26.1, 40.3, 33.0], [31.2, 40.1, 22.5, 35.0, 28.8]))
        #expect(Self.close(r.statistic, 14.828297498654255))
        #expect(Self.close(r.pValue, 0.0001204292011944803, relative: 1e-7))
        let none = try #require(Statistics.paired([1.1, 1.9, 3.2, 3.9], [1, 2, 3, 4]))
        #expect(Self.close(none.statistic, 0.3333333333333333))
        #expect(Self.close(none.pValue, 0.7608203755145106, relative: 1e-7))
        #expect(Statistics.paired([1, 2], [1, 2, 3]) == nil)
        #expect(Statistics.paired([5, 6, 7], [4, 5, 6])?.pValue == 0)
    }

    @Test func constantSamples() throws {
        let same = try #require(Statistics.welch([12, 12, 12], [12, 12, 12]))
        #expect(same.pValue == 1)
        let different = try #require(Statistics.welch([12, 12, 12], [96, 96, 96]))
        #expect(different.pValue == 0)
        #expect(different.statistic == -.infinity)
        #expect(Statistics.mannWhitney([12, 12, 12], [12, 12, 12])?.pValue == 1)
    }

    @Test func tooFewValues() {
        #expect(Statistics.welch([1], [2, 3]) == nil)
        #expect(Statistics.mannWhitney([1, 2], []) == nil)
        #expect(Statistics.variance([4]).isNaN)
        #expect(Statistics.variance([2, 4, 4, 4, 5, 5, 7, 9]) == 32.0 / 7)
    }
}
