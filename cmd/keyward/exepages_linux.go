package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropStartupPages unmaps the pages of the executable's read-only
// mappings (its code, read-only data and function tables) from this
// process, once serve is ready, and returns how many bytes were resident.
//
// Go's start-up runs every package's init, spread over the whole 22 MB of
// code, and the kernel maps each page fault's whole neighbourhood (64 KiB
// or more of the page cache) into the process: about 38 MiB of the
// executable were resident before the first request, of which the hot
// paths use a few. MADV_DONTNEED on a private file mapping that was never
// written only unmaps the pages; they stay in the page cache, and what a
// request needs again comes back with a minor fault. A mapping with any
// page of its own (a relocation written into it, a debugger's breakpoint)
// is left alone, and so is a traced process.
func dropStartupPages() int64 {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil || traced() {
		return 0
	}
	type mapping struct {
		start, end uintptr
		rss        int64
		private    bool // a page of it was written (Anonymous > 0)
	}
	var maps []mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) >= 6 && strings.Contains(f[0], "-"):
			if f[5] != exe || f[1][1] == 'w' {
				maps = append(maps, mapping{private: true}) // not ours to drop
				continue
			}
			lo, hi, _ := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			maps = append(maps, mapping{start: uintptr(start), end: uintptr(end), private: err1 != nil || err2 != nil})
		case len(maps) == 0:
		case len(f) == 3 && f[0] == "Rss:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			maps[len(maps)-1].rss = kb << 10
		case len(f) == 3 && f[0] == "Anonymous:" && f[1] != "0":
			maps[len(maps)-1].private = true
		}
	}
	var dropped int64
	for _, m := range maps {
		if m.private || m.end <= m.start {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno == 0 {
			dropped += m.rss
		}
	}
	return dropped
}

// traced reports whether a debugger is attached (its breakpoints are
// written into the code's pages).
func traced() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	_, rest, ok := bytes.Cut(status, []byte("TracerPid:"))
	if !ok {
		return true
	}
	pid, _, _ := bytes.Cut(rest, []byte("\n"))
	return string(bytes.TrimSpace(pid)) != "0"
}
