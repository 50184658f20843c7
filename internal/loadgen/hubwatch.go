//go:build linux

package loadgen

import (
	"errors"
	"time"
)

// hubWatch samples the hub's process over a run; without a HubPID it does nothing.
type hubWatch struct {
	pid        int
	res        *Result
	before     ProcSample
	connectCPU time.Duration
}

// watchHub takes the first sample of the hub's process.
func watchHub(pid int, res *Result) (*hubWatch, error) {
	w := &hubWatch{pid: pid, res: res}
	if pid > 0 {
		s, err := SampleProc(pid)
		if err != nil {
			return nil, err
		}
		w.before = s
	}
	return w, nil
}

// sample samples the hub's process again: ok is false, and res.HubProcError says why, when
// it is no longer the process sampled first.
func (w *hubWatch) sample() (ProcSample, bool) {
	s, err := SampleProc(w.pid)
	switch {
	case err == nil && s.Start == w.before.Start:
		return s, w.res.HubProcError == ""
	case err == nil, errors.Is(err, ErrNoProcess):
		w.res.HubProcError = "hub process ended during the run"
	case w.res.HubProcError == "":
		w.res.HubProcError = err.Error()
	}
	return s, false
}

// connected marks the end of connecting: the hub's CPU time so far is the connections',
// the rest the measurement's.
func (w *hubWatch) connected() {
	if w.pid <= 0 {
		return
	}
	if s, ok := w.sample(); ok {
		w.connectCPU = s.CPU - w.before.CPU
		w.before.CPU = s.CPU
	}
}

// finish samples the hub's process a last time into res.HubProc.
func (w *hubWatch) finish() {
	if w.pid <= 0 {
		return
	}
	after, ok := w.sample()
	if !ok {
		return
	}
	h := &HubStats{PID: w.pid, RSSBefore: w.before.RSSBytes, RSSAfter: after.RSSBytes,
		CPUNanos: int64(after.CPU - w.before.CPU), ConnectCPUNanos: int64(w.connectCPU)}
	if w.res.Connected > 0 {
		h.RSSPerConn = (after.RSSBytes - w.before.RSSBytes) / w.res.Connected
	}
	w.res.HubProc = h
}
