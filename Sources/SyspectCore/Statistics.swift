import Foundation

/// Two-sample statistics for the impact analysis (is a stubbed or faked run different from the
/// baseline?): Welch's unequal-variance t-test and the Mann–Whitney U test, both two-sided, in
/// pure Swift. The distributions follow Numerical Recipes (3rd ed., §6.1–6.4): the Student t
/// tail through the regularized incomplete beta function (Lentz's continued fraction), the
/// normal tail through `erfc`. Checked against scipy 1.17 in `StatisticsTests`.
public enum Statistics {
    /// Which test decides whether two samples differ.
    public enum Test: String, Sendable, Hashable, Codable, CaseIterable {
        /// Welch's t-test on the means (unequal variances; Welch–Satterthwaite degrees of freedom).
        case welch
        /// Mann–Whitney U (Wilcoxon rank-sum) on the ranks: exact without ties when a sample
        /// has at most 8 values, else the normal approximation with tie and continuity
        /// corrections (scipy's `method="auto"`).
        case mannWhitney = "mann-whitney"
        /// Student's paired t-test on the differences of matched values (scipy `ttest_rel`):
        /// for runs made in pairs under the same conditions (interleaved B/S runs).
        case paired
    }

    /// The outcome of a two-sample test.
    public struct Result: Sendable, Hashable, Codable {
        /// The test statistic: t (Welch) or U of the first sample (Mann–Whitney).
        public var statistic: Double
        /// Two-sided p-value in [0, 1].
        public var pValue: Double

        public init(statistic: Double, pValue: Double) {
            self.statistic = statistic
            self.pValue = pValue
        }
    }

    public static func mean(_ x: [Double]) -> Double {
        x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count)
    }

    /// Sample variance (n − 1 denominator); NaN below two values.
    public static func variance(_ x: [Double]) -> Double {
        guard x.count > 1 else { return .nan }
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// Runs `test` on two samples; nil when a sample has fewer than two values.
    public static func compare(_ a: [Double], _ b: [Double], test: Test) -> Result? {
        switch test {
        case .welch: return welch(a, b)
        case .mannWhitney: return mannWhitney(a, b)
        case .paired: return paired(a, b)
        }
    }

    // MARK: - Paired t-test

    /// The two-sided paired t-test of `a[i] − b[i]` (scipy `ttest_rel(a, b)`); nil below two
    /// pairs or for samples of different sizes. Constant differences give p = 1 when they are 0
    /// and p = 0 otherwise.
    public static func paired(_ a: [Double], _ b: [Double]) -> Result? {
        guard a.count == b.count, a.count > 1 else { return nil }
        let d = zip(a, b).map { $0 - $1 }
        let m = mean(d), se = (variance(d) / Double(d.count)).squareRoot()
        guard se > 0 else {
            return m == 0 ? Result(statistic: 0, pValue: 1) : Result(statistic: m > 0 ? .infinity : -.infinity, pValue: 0)
        }
        let t = m / se
        return Result(statistic: t, pValue: studentTwoSidedP(t: t, df: Double(d.count - 1)))
    }

    // MARK: - Welch's t-test

    /// Welch's two-sided t-test (scipy `ttest_ind(a, b, equal_var=False)`). When both samples
    /// have zero variance (e.g. the same file descriptor count every run) the p-value is 1 for
    /// equal means and 0 for different ones: constant, different samples are as different as
    /// samples get.
    public static func welch(_ a: [Double], _ b: [Double]) -> Result? {
        guard a.count > 1, b.count > 1 else { return nil }
        let va = variance(a) / Double(a.count), vb = variance(b) / Double(b.count)
        let difference = mean(a) - mean(b)
        let se2 = va + vb
        guard se2 > 0 else {
            return difference == 0 ? Result(statistic: 0, pValue: 1)
                : Result(statistic: difference > 0 ? .infinity : -.infinity, pValue: 0)
        }
        let t = difference / se2.squareRoot()
        let df = se2 * se2 / (va * va / Double(a.count - 1) + vb * vb / Double(b.count - 1))
        return Result(statistic: t, pValue: studentTwoSidedP(t: t, df: df))
    }

    /// P(|T| ≥ |t|) for Student's t with `df` (possibly fractional) degrees of freedom.
    public static func studentTwoSidedP(t: Double, df: Double) -> Double {
        guard t.isFinite else { return 0 }
        return min(1, max(0, regularizedIncompleteBeta(a: df / 2, b: 0.5, x: df / (df + t * t))))
    }

    /// I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1.
    public static func regularizedIncompleteBeta(a: Double, b: Double, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        let front = exp(logFront)
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
        if x < (a + 1) / (a + b + 2) { return front * betaContinuedFraction(a: a, b: b, x: x) / a }
        return 1 - front * betaContinuedFraction(a: b, b: a, x: 1 - x) / b
    }

    /// The continued fraction of the incomplete beta function (modified Lentz's method).
    private static func betaContinuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-15
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }

    // MARK: - Mann–Whitney U

    /// The two-sided Mann–Whitney U test (scipy `mannwhitneyu(a, b)`, default options): U is
    /// the statistic of `a`; exact p-value without ties when a sample holds at most 8 values,
    /// otherwise the normal approximation with tie correction and continuity correction.
    public static func mannWhitney(_ a: [Double], _ b: [Double]) -> Result? {
        guard a.count > 1, b.count > 1 else { return nil }
        let n1 = a.count, n2 = b.count
        let (ranked, tieTerm) = ranks(a + b)
        let rankSum = ranked.prefix(n1).reduce(0, +)
        let u1 = rankSum - Double(n1 * (n1 + 1)) / 2
        let u2 = Double(n1 * n2) - u1
        let big = max(u1, u2)
        if tieTerm == 0 && min(n1, n2) <= 8 {
            // P(U ≥ big) doubled; the distribution is symmetric around n1·n2/2.
            let p = 2 * exactUpperTail(n1: n1, n2: n2, atLeast: Int(big.rounded()))
            return Result(statistic: u1, pValue: min(1, p))
        }
        let n = Double(n1 + n2)
        let meanU = Double(n1 * n2) / 2
        let sd = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
        guard sd > 0 else { return Result(statistic: u1, pValue: 1) }
        let z = (big - meanU - 0.5) / sd
        return Result(statistic: u1, pValue: min(1, max(0, erfc(z / 2.0.squareRoot()))))
    }

    /// Mid-ranks (1-based; ties share their average rank) and Σ(t³ − t) over tie groups.
    static func ranks(_ values: [Double]) -> (ranks: [Double], tieTerm: Double) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var tieTerm = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end + 2) / 2
            for i in start...end { result[order[i]] = rank }
            let t = Double(end - start + 1)
            tieTerm += t * t * t - t
            start = end + 1
        }
        return (result, tieTerm)
    }

    /// P(U ≥ `atLeast`) under the null hypothesis, by counting the rank arrangements
    /// (the number of ways to pick n1 of n1+n2 ranks with a given U), as a fraction of C(n1+n2, n1).
    static func exactUpperTail(n1: Int, n2: Int, atLeast: Int) -> Double {
        let maxU = n1 * n2
        // counts[i][j][u]: arrangements of i values of the first sample and j of the second with U = u.
        // Rolled over j: counts[i][u] for the current j.
        var previous = [[Double]](repeating: [Double](repeating: 0, count: maxU + 1), count: n1 + 1)
        for i in 0...n1 { previous[i][0] = 1 }  // j = 0: U is 0
        if n2 > 0 {
            for j in 1...n2 {
                var current = [[Double]](repeating: [Double](repeating: 0, count: maxU + 1), count: n1 + 1)
                current[0][0] = 1
                for i in 1...n1 {
                    for u in 0...maxU {
                        // The largest value is either from the first sample (it beats all j
                        // values of the second: U grows by j) or from the second.
                        var count = previous[i][u]
                        if u >= j { count += current[i - 1][u - j] }
                        current[i][u] = count
                    }
                }
                previous = current
            }
        }
        let counts = previous[n1]
        let total = counts.reduce(0, +)
        let tail = counts[max(0, min(atLeast, maxU + 1))...].reduce(0, +)
        return tail / total
    }
}
