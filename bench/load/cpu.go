package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuReport is the CPU the parts of a run used while the load ran, in
// cores: CPU seconds per second of wall time. It tells how much of the
// machine the run left, and so whether a target is above what the machine
// can do at all.
type cpuReport struct {
	Server   float64 `json:"server_cores,omitempty"`
	Database float64 `json:"database_cores,omitempty"`
	LoadTool float64 `json:"load_tool_cores"`
	Machine  float64 `json:"machine_busy_cores"` // all processes and the kernel
	Cores    int     `json:"machine_cores"`
}

// userHZ is the unit of /proc's CPU times: USER_HZ, 100 on every Linux ABI
// Go supports.
const userHZ = 100

type cpuReading struct {
	at               time.Time
	server, database float64 // seconds; -1 when not measured
	self             float64
	busy             float64 // machine jiffies not idle
	cores            int
}

// readCPU reads the counters; a pid of 0 is not measured, and an
// unreadable process counts as not measured.
func readCPU(serverPID, dbPID int) cpuReading {
	r := cpuReading{at: time.Now(), server: procCPU(serverPID), database: procCPU(dbPID), self: procCPU(os.Getpid())}
	r.busy, r.cores = machineBusy()
	return r
}

// since turns two readings into cores used in between.
func (r cpuReading) since(start cpuReading) *cpuReport {
	wall := r.at.Sub(start.at).Seconds()
	if wall <= 0 || r.cores == 0 {
		return nil
	}
	cores := func(a, b float64) float64 {
		if a < 0 || b < 0 {
			return 0
		}
		return (b - a) / wall
	}
	return &cpuReport{
		Server: cores(start.server, r.server), Database: cores(start.database, r.database),
		LoadTool: cores(start.self, r.self), Machine: (r.busy - start.busy) / userHZ / wall, Cores: r.cores,
	}
}

// procCPU is a process's user and system time in seconds from
// /proc/PID/stat, or -1.
func procCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	v, err := parseProcStat(b)
	if err != nil {
		return -1
	}
	return v
}

// parseProcStat reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so the fields are counted from its closing parenthesis.
func parseProcStat(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // f[0] is field 3 (state)
		return 0, fmt.Errorf("proc stat: %d fields", len(f)+2)
	}
	var sum float64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		sum += float64(n)
	}
	return sum / userHZ, nil
}

// machineBusy sums the non-idle jiffies of all CPUs from /proc/stat and
// counts the CPUs.
func machineBusy() (busy float64, cores int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	busy, cores, err = parseMachineStat(b)
	if err != nil {
		return 0, 0
	}
	return busy, cores
}

func parseMachineStat(b []byte) (busy float64, cores int, err error) {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || !strings.HasPrefix(f[0], "cpu"):
		case f[0] != "cpu":
			cores++
		case len(f) < 9:
			return 0, 0, fmt.Errorf("/proc/stat: short cpu line")
		default:
			// user nice system idle iowait irq softirq steal (guest time is
			// already in user): busy is all but idle and iowait.
			for k, s := range f[1:9] {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("/proc/stat: %w", err)
				}
				if k != 3 && k != 4 {
					busy += float64(n)
				}
			}
		}
	}
	return busy, cores, nil
}

func printCPU(w io.Writer, c *cpuReport, acked, seconds float64) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "cpu (cores while the load ran): machine %.2f of %d", c.Machine, c.Cores)
	if c.Server > 0 {
		fmt.Fprintf(w, ", server %.2f", c.Server)
	}
	if c.Database > 0 {
		fmt.Fprintf(w, ", database %.2f", c.Database)
	}
	fmt.Fprintf(w, ", load tool %.2f", c.LoadTool)
	if acked > 0 && seconds > 0 {
		fmt.Fprintf(w, "; %.2f ms of machine CPU per acknowledged delivery", 1000*c.Machine*seconds/acked)
	}
	fmt.Fprintln(w)
}
