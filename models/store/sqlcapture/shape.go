package sqlcapture

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	spaces = regexp.MustCompile(`\s+`)
	// A list of three or more placeholders.
	longList = regexp.MustCompile(`\(\s*\?\s*,\s*\?(\s*,\s*\?)+\s*\)`)
	// A savepoint's name: one per delivery of a batch.
	savepoint = regexp.MustCompile(`(?i)^((?:SAVEPOINT|ROLLBACK TO SAVEPOINT|ROLLBACK TO|RELEASE SAVEPOINT) [A-Za-z_]+)[0-9]+$`)
	// Three or more WHEN ? THEN ? arms of a CASE.
	longCase = regexp.MustCompile(`( WHEN \? THEN \?){3,}`)
)

// Shape folds the parts of sql that grow with a batch, so that a statement
// has one shape however many rows it carries: lists of placeholders and
// repeated groups are cut to two (one and two are kept apart, because two
// values of shop_id are two shards), an INSERT's row tuples to one.
func Shape(sql string) string {
	s := strings.TrimSpace(spaces.ReplaceAllString(sql, " "))
	if isInsert(s) {
		// Vitess routes each row on its own: the capture's Shops says
		// whether the rows span shops.
		return firstTuple(s)
	}
	s = savepoint.ReplaceAllString(s, "${1}0")
	s = longList.ReplaceAllString(s, "(?,?)")
	s = longCase.ReplaceAllString(s, " WHEN ? THEN ? WHEN ? THEN ?")
	return foldRepeats(s, " OR ", 2)
}

// foldRepeats cuts runs of one parenthesized group joined by sep to keep.
func foldRepeats(s, sep string, keep int) string {
	var out strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '(' {
			out.WriteByte(s[i])
			i++
			continue
		}
		end := closing(s, i)
		if end < 0 {
			out.WriteString(s[i:])
			break
		}
		group := s[i : end+1]
		out.WriteString(group)
		i = end + 1
		for n := 1; strings.HasPrefix(s[i:], sep+group); n++ {
			if n < keep {
				out.WriteString(sep + group)
			}
			i += len(sep + group)
		}
	}
	return out.String()
}

// closing is the index of the parenthesis that closes the one at open, or
// -1. Placeholders keep values out of the SQL, so quotes need no care.
func closing(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isInsert(sql string) bool {
	return len(sql) >= 6 && strings.EqualFold(strings.TrimSpace(sql)[:6], "INSERT")
}

// valuesAt is where an INSERT's first row tuple starts, or -1.
func valuesAt(s string) int {
	i := strings.Index(strings.ToUpper(s), " VALUES ")
	if i < 0 {
		return -1
	}
	j := strings.IndexByte(s[i:], '(')
	if j < 0 {
		return -1
	}
	return i + j
}

// firstTuple keeps an INSERT's first row tuple and what follows the rows
// (ON DUPLICATE KEY …).
func firstTuple(s string) string {
	at := valuesAt(s)
	if at < 0 {
		return s
	}
	end := closing(s, at)
	if end < 0 {
		return s
	}
	rest := end + 1
	for strings.HasPrefix(s[rest:], ",") || strings.HasPrefix(s[rest:], ", ") {
		rest += strings.IndexByte(s[rest:], '(')
		e := closing(s, rest)
		if e < 0 {
			return s
		}
		rest = e + 1
	}
	return s[:end+1] + s[rest:]
}

// insertShops counts the distinct shop_id values among an INSERT's rows,
// reading them from vars by the position of each placeholder. It answers 0
// when the statement has no shop_id column or a shape it does not follow.
func insertShops(sql string, vars []any) int {
	s := spaces.ReplaceAllString(sql, " ")
	open := strings.IndexByte(s, '(')
	at := valuesAt(s)
	if open < 0 || at < 0 || open > at {
		return 0
	}
	col := -1
	for i, c := range strings.Split(s[open+1:closing(s, open)], ",") {
		if strings.Trim(strings.TrimSpace(c), "`\"") == "shop_id" {
			col = i
		}
	}
	if col < 0 {
		return 0
	}
	shops := map[string]bool{}
	arg := strings.Count(s[:at], "?")
	for at < len(s) && s[at] == '(' {
		end := closing(s, at)
		if end < 0 {
			return 0
		}
		for i, v := range strings.Split(s[at+1:end], ",") {
			v = strings.TrimSpace(v)
			if i == col {
				if v != "?" {
					shops[v] = true
				} else if arg < len(vars) {
					shops[fmt.Sprint(vars[arg])] = true
				}
			}
			arg += strings.Count(v, "?")
		}
		at = end + 1
		for at < len(s) && (s[at] == ',' || s[at] == ' ') {
			at++
		}
	}
	return len(shops)
}
