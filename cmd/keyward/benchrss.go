package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	rtmetrics "runtime/metrics"
	"strconv"
	"sync"
)

// peakRSS follows the resident set size of one process during a
// scenario: the bench's children, or the bench itself (pid 0).
//
// On Linux, start resets the kernel's high-water mark (writing 5 to
// /proc/PID/clear_refs), so VmHWM at the end is the exact peak over the
// scenario, not a sample of it. Where that is refused, or there is no
// VmHWM, the peak is the highest of the VmRSS samples taken four times a
// second. Without /proc (not Linux), the bench itself reports the memory
// its Go runtime has mapped, and its children report nothing.
type peakRSS struct {
	pid int

	mu      sync.Mutex
	sampled int64
	exact   bool // VmHWM was reset at start
}

func newPeakRSS(pid int) *peakRSS { return &peakRSS{pid: pid} }

func (p *peakRSS) procDir() string { return procDir(p.pid) }

// procDir is the /proc directory of a bench child by pid, or of the bench
// itself (pid 0).
func procDir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return fmt.Sprintf("/proc/%d", pid)
}

// start begins a scenario: it forgets the earlier peak.
func (p *peakRSS) start() {
	if p == nil {
		return
	}
	err := os.WriteFile(p.procDir()+"/clear_refs", []byte("5"), 0)
	rss, _ := p.read()
	p.mu.Lock()
	p.exact, p.sampled = err == nil, rss
	p.mu.Unlock()
}

// sample reads the current RSS.
func (p *peakRSS) sample() {
	if p == nil {
		return
	}
	rss, _ := p.read()
	p.mu.Lock()
	p.sampled = max(p.sampled, rss)
	p.mu.Unlock()
}

// peak is the highest RSS since start, in bytes (0: unknown).
func (p *peakRSS) peak() int64 {
	if p == nil {
		return 0
	}
	rss, hwm := p.read()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sampled = max(p.sampled, rss)
	if p.exact && hwm > 0 {
		return max(hwm, p.sampled)
	}
	return p.sampled
}

// read returns VmRSS and VmHWM of the process, in bytes.
func (p *peakRSS) read() (rss, hwm int64) {
	b, err := os.ReadFile(p.procDir() + "/status")
	if err != nil {
		if p.pid != 0 {
			return 0, 0
		}
		s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}}
		rtmetrics.Read(s)
		if s[0].Value.Kind() == rtmetrics.KindUint64 {
			return int64(s[0].Value.Uint64()), 0
		}
		return 0, 0
	}
	return procStatusBytes(b, "VmRSS:"), procStatusBytes(b, "VmHWM:")
}

// procStatusBytes is the value of a "Name:   123 kB" line of
// /proc/PID/status, in bytes (0: absent).
func procStatusBytes(status []byte, name string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte(name)); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
