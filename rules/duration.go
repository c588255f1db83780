package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a Go duration ("48h", "90m") extended with whole days
// ("14d", "1d12h"). Negative durations are refused.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if strings.Contains(s, "-") {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: use a number of days like \"14d\", or a Go duration like \"48h\"", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: use a number of days like \"14d\", or a Go duration like \"48h\"", orig)
	}
	return days + d, nil
}

// formatDuration renders d compactly, using days where it divides evenly.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// clock is a time of day in minutes after midnight.
type clock int

func parseClock(s string) (clock, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad time of day %q: use HH:MM, e.g. \"08:00\"", s)
	}
	return clock(t.Hour()*60 + t.Minute()), nil
}

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }
