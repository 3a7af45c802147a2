package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// cpuTime is the CPU time (user and system, all threads) a process has
// used: the bench's children by pid, or the bench itself (pid 0). Read
// around a scenario, it gives the CPU each request cost the server and the
// load generator, which a noisy machine leaves readable where rates are
// not. ok is false where /proc is missing (not Linux).
func cpuTime(pid int) (d time.Duration, ok bool) {
	b, err := os.ReadFile(procDir(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseProcStatCPU(b)
}

// userHZ is the unit of /proc/PID/stat's times: the kernel's USER_HZ,
// fixed at 100 in Linux's ABI whatever the kernel's own tick.
const userHZ = 100

// parseProcStatCPU reads utime and stime (fields 14 and 15) from the text
// of /proc/PID/stat. The process's name (field 2, in parentheses) may hold
// spaces and parentheses, so the fields are counted after its last ')'.
func parseProcStatCPU(stat []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || utime < 0 || stime < 0 {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

// cpuMark is a process's CPU time when a scenario starts.
type cpuMark struct {
	pid int
	at  time.Duration
	ok  bool
}

func markCPU(pid int) cpuMark {
	at, ok := cpuTime(pid)
	return cpuMark{pid: pid, at: at, ok: ok}
}

// since is the CPU time the process used from the mark until now, per
// request (0: unknown).
func (m cpuMark) since(requests int64) time.Duration {
	now, ok := cpuTime(m.pid)
	return perRequest(m.at, now, m.ok, ok, requests)
}

// perRequest is the CPU time used between before and after, per request
// (0 when either read failed or no request was made).
func perRequest(before, after time.Duration, okBefore, okAfter bool, requests int64) time.Duration {
	if !okBefore || !okAfter || requests <= 0 || after < before {
		return 0
	}
	return (after - before) / time.Duration(requests)
}
