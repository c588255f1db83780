// Package nearest finds the known name nearest a misspelt one, for the
// "did you mean" hints of the config and rules file errors.
package nearest

// Name returns the name in known with the fewest edits from got (the
// first of equals, in known's order) and that distance; "" and -1 when
// known is empty.
func Name(got string, known []string) (best string, dist int) {
	dist = -1
	for _, k := range known {
		if d := Distance(got, k); dist < 0 || d < dist {
			best, dist = k, d
		}
	}
	return best, dist
}

// Distance is the Levenshtein distance between a and b, in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
