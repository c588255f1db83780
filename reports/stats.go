package reports

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// wilson is the Wilson score interval of x successes in n trials at the
// normal quantile z: unlike the textbook p ± z·se it stays inside [0, 1]
// and keeps its coverage for small counts and rates near 0 or 1.
func wilson(x, n int, z float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	p := float64(x) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// diffInterval is Newcombe's hybrid score interval (his method 10) for the
// difference p1 − p2 of two independent proportions, at confidence level
// conf: it combines the two Wilson intervals and, unlike the Wald interval,
// does not collapse to a point when a group has no conversions.
func diffInterval(x1, n1, x2, n2 int, conf float64) (lo, hi float64) {
	z := distuv.UnitNormal.Quantile(1 - (1-conf)/2)
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := wilson(x1, n1, z)
	l2, u2 := wilson(x2, n2, z)
	d := p1 - p2
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	return lo, hi
}
