//go:build linux

package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileLimit is the process's open-file limit.
type FileLimit struct {
	Soft, Hard uint64
	// Raised tells that the soft limit was raised to the hard one.
	Raised bool
}

// reservedFiles are the descriptors kept back from the limit for everything but subscribers:
// standard streams, the epoll instances, publishers' connections and the runtime's own.
const reservedFiles = 64

// Connections is how many subscriber connections the limit leaves room for.
func (l FileLimit) Connections() int {
	if l.Soft <= reservedFiles {
		return 0
	}
	return int(min(l.Soft-reservedFiles, 1<<30))
}

// RaiseFileLimit raises the soft open-file limit to the hard one and reports both.
func RaiseFileLimit() (FileLimit, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return FileLimit{}, fmt.Errorf("loadgen: getrlimit: %w", err)
	}
	l := FileLimit{Soft: r.Cur, Hard: r.Max}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err == nil {
			l.Soft, l.Raised = r.Max, true
		}
	}
	return l, nil
}

// ProcSample is what /proc says of a process at one moment.
type ProcSample struct {
	RSSBytes int64
	// CPU is user plus system time.
	CPU time.Duration
	// Start is when the process started, in clock ticks since boot: another process
	// given the same pid later has another.
	Start uint64
}

// ErrNoProcess is returned by SampleProc for a process that does not exist or has ended
// (a zombie not yet waited for included).
var ErrNoProcess = errors.New("loadgen: no such process")

// clockTick is USER_HZ, which Linux fixes at 100 for /proc/PID/stat on every architecture
// Go supports.
const clockTick = 100

// SampleProc reads a process's resident memory (/proc/PID/status VmRSS), CPU time
// (/proc/PID/stat utime+stime) and start time.
func SampleProc(pid int) (ProcSample, error) {
	var s ProcSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w (hub process %d)", ErrNoProcess, pid)
	}
	if err != nil {
		return s, fmt.Errorf("loadgen: hub process: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return s, fmt.Errorf("loadgen: VmRSS %q: %w", rest, err)
				}
				s.RSSBytes = kb << 10
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w (hub process %d)", ErrNoProcess, pid)
	}
	if err != nil {
		return s, fmt.Errorf("loadgen: hub process: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces: count from after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("loadgen: /proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15, starttime 22.
	if len(f) < 20 {
		return s, fmt.Errorf("loadgen: /proc/%d/stat: too few fields", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return s, fmt.Errorf("%w (hub process %d)", ErrNoProcess, pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	start, err3 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return s, fmt.Errorf("loadgen: /proc/%d/stat: bad CPU or start times", pid)
	}
	s.CPU = time.Duration(ut+st) * time.Second / clockTick
	s.Start = start
	return s, nil
}

// SockStat is the kernel's TCP socket accounting from /proc/net/sockstat.
type SockStat struct {
	InUse int64 `json:"tcp_inuse"`
	// MemBytes is the memory the kernel holds for TCP socket buffers ("mem", in pages).
	MemBytes int64 `json:"tcp_mem_bytes"`
}

// ReadSockStat reads /proc/net/sockstat.
func ReadSockStat() (SockStat, error) {
	var s SockStat
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return s, fmt.Errorf("loadgen: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "TCP:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				continue
			}
			switch f[i] {
			case "inuse":
				s.InUse = v
			case "mem":
				s.MemBytes = v * int64(os.Getpagesize())
			}
		}
	}
	return s, nil
}

// selfCPU is this process's user plus system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
