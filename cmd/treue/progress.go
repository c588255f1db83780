package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar tells a person waiting how far a long command (the loyalty
// report, the import, the rules simulation) has come, on stderr and only once it
// has run for more than a second: a bar on a terminal, else (a log, a pipe)
// a plain line every few seconds.
type progressBar struct {
	w     io.Writer
	tty   bool
	total int
	now   func() time.Time
	// label and unit name the command and what it counts, verb what it
	// does to them; empty means the loyalty report's "report loyalty",
	// "customers" and "read".
	label, unit, verb string

	start, last time.Time
	shown       bool
}

// newProgressBar starts a bar on w, a terminal or not, from now.
func newProgressBar(w io.Writer, label, unit, verb string) *progressBar {
	p := &progressBar{w: w, tty: isTerminal(w), now: time.Now, label: label, unit: unit, verb: verb}
	p.start = p.now()
	return p
}

func (p *progressBar) update(read, total int) {
	p.total = total
	t := p.now()
	if t.Sub(p.start) < time.Second {
		return
	}
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if p.shown && t.Sub(p.last) < every {
		return
	}
	p.shown, p.last = true, t
	label, unit, verb := cmp.Or(p.label, "report loyalty"), cmp.Or(p.unit, "customers"), cmp.Or(p.verb, "read")
	if !p.tty {
		if p.total < 0 {
			fmt.Fprintf(p.w, "%s: %d %s %s\n", label, read, unit, verb)
			return
		}
		fmt.Fprintf(p.w, "%s: %d of %d %s %s\n", label, read, p.total, unit, verb)
		return
	}
	const width = 30
	done := width
	if p.total > 0 {
		done = read * width / p.total
	}
	pct := 100
	if p.total > 0 {
		pct = read * 100 / p.total
	}
	if p.total < 0 { // not known: a counter instead of a bar
		fmt.Fprintf(p.w, "\r%d %s", read, unit)
		return
	}
	done, pct = min(done, width), min(pct, 100)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d %s", strings.Repeat("#", done), strings.Repeat(".", width-done), pct, read, p.total, unit)
}

// done clears the bar, so that it does not mix with what follows.
func (p *progressBar) done() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
