package main

import (
	"math"
	"os"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	line := []byte("4242 (tre ue) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 9 0 100 0 0\n")
	v, err := parseProcStat(line)
	if err != nil || v != 3 {
		t.Fatalf("got %v, %v; want 3 s", v, err)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short line must fail")
	}
}

func TestParseMachineStat(t *testing.T) {
	stat := []byte(`cpu  100 5 40 1000 30 1 2 3 7 0
cpu0 50 2 20 500 15 1 1 1 3 0
cpu1 50 3 20 500 15 0 1 2 4 0
intr 1 2 3
`)
	busy, cores, err := parseMachineStat(stat)
	// idle (1000) and iowait (30) are not busy; guest (7) is already in user.
	if err != nil || busy != 151 || cores != 2 {
		t.Fatalf("busy %v, cores %d, %v; want 151, 2", busy, cores, err)
	}
}

// A real reading of this process counts the CPU it burns, whatever else
// the machine is doing (so in CPU seconds, not in cores).
func TestReadCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	pid := os.Getpid()
	start := readCPU(pid, 0)
	x := 1.0
	for procCPU(pid)-start.self < 0.2 && time.Since(start.at) < 20*time.Second {
		for range 100000 {
			x = math.Sqrt(x + 1)
		}
	}
	c := readCPU(pid, 0).since(start)
	wall := time.Since(start.at).Seconds()
	if c == nil || c.Server*wall < 0.19 || c.LoadTool*wall < 0.19 || c.Machine*wall < 0.18 || c.Database != 0 || c.Cores < 1 {
		t.Fatalf("cpu %+v over %.2fs (x %v): want 0.2 s of this process's CPU counted", c, wall, x)
	}
}
