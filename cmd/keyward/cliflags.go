package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keyward/keyward/keys"
)

// The command line's shared machinery: global flags given before or after
// the command, help that shows only the flags that apply, and durations
// read and shown the way people write them. It works on every command
// that makes its flag set with m.flags and parses it with m.parse.

// globalAnnotation marks, on a command's flag set, the flags that every
// command shares (bindCommon); help lists them apart from the command's own.
const globalAnnotation = "keyward-global"

// probeFlags is a flag set of every setting that may come before the
// command ("keyward --data-dir X clients list"): the shared ones and
// serve's. It is used to tell how many arguments such a flag takes.
func probeFlags() *pflag.FlagSet {
	var c Config
	fs := pflag.NewFlagSet("keyward", pflag.ContinueOnError)
	c.bindCommon(fs)
	c.bindServe(fs)
	return fs
}

// leadingFlags splits the flags at the start of args that probe defines
// ("--data-dir X", "--format=json", "--no-migrate") from the rest, which
// starts with the command (or subcommand) name. A "-" argument that probe
// does not define, such as --help or --version, ends the flags.
func leadingFlags(probe *pflag.FlagSet, args []string) (flags, rest []string) {
	i := 0
	for i < len(args) {
		a := args[i]
		if !strings.HasPrefix(a, "--") || a == "--" {
			break
		}
		name, _, hasValue := strings.Cut(a[2:], "=")
		f := probe.Lookup(name)
		if f == nil {
			break
		}
		i++
		if !hasValue && f.NoOptDefVal == "" && i < len(args) {
			i++
		}
	}
	return args[:i], args[i:]
}

// globalsShown lists, per command, the shared flags its help shows: the
// others are still accepted (so scripts may set them everywhere, and they
// may come before any command) but do not apply there. A command that is
// not listed is a management command: it opens the database, or with
// --admin-url calls a server's admin API, and shows manageGlobals.
var (
	dbGlobals     = []string{"data-dir", "database-url", "secret", "secret-file", "format", "log-format"}
	manageGlobals = append(append([]string(nil), dbGlobals...), remoteFlags...)
	globalsShown  = map[string][]string{
		"version": {"format"},
		"migrate": {"data-dir", "database-url", "log-format"},
		"serve":   append(append([]string(nil), dbGlobals...), "api-key-env", "jwks-max-age"),
		"bench":   {"format", "log-format"},
		"apikeys": append(append([]string(nil), manageGlobals...), "api-key-env"),
		"keys":    append(append([]string(nil), manageGlobals...), "jwks-max-age"),
	}
)

// remoteFlags are the settings of remote mode, which only the management
// commands take.
var remoteFlags = []string{"admin-url", "admin-token-file"}

// shownGlobals returns the shared flags that apply to the command named
// name ("clients create", "serve").
func shownGlobals(name string) []string {
	if g, ok := globalsShown[name]; ok {
		return g
	}
	group, _, _ := strings.Cut(name, " ")
	if g, ok := globalsShown[group]; ok {
		return g
	}
	return manageGlobals
}

// printHelp writes the help of the command fs belongs to: its line of the
// group's usage when there is one, its own flags, then the shared flags
// that apply to it.
func (m *Main) printHelp(w io.Writer, fs *pflag.FlagSet) {
	name := strings.TrimPrefix(fs.Name(), "keyward ")
	lines := usageLines(m.groupUsage, name)
	if len(lines) == 0 {
		fmt.Fprintf(w, "usage: keyward %s [flags]\n", name)
	} else {
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	own := pflag.NewFlagSet(name, pflag.ContinueOnError)
	global := pflag.NewFlagSet(name, pflag.ContinueOnError)
	shown := map[string]bool{}
	for _, n := range shownGlobals(name) {
		shown[n] = true
	}
	fs.VisitAll(func(f *pflag.Flag) {
		switch {
		case f.Hidden:
		case f.Annotations[globalAnnotation] == nil:
			own.AddFlag(f)
		case shown[f.Name]:
			global.AddFlag(f)
		}
	})
	if own.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsages())
	}
	if global.HasAvailableFlags() {
		fmt.Fprintf(w, "\nGlobal flags (also accepted before the command):\n%s", global.FlagUsages())
	}
}

// usageLines returns the lines of a group's usage that describe the
// command name ("clients create"): the line naming it and the lines
// continuing it (indented deeper, not naming another command).
func usageLines(usage, name string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(usage, "\n") {
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "usage:"))
		switch {
		case strings.HasPrefix(t, "keyward "+name+" ") || t == "keyward "+name:
			in = true
			out = append(out, "usage: "+t)
		case strings.HasPrefix(t, "keyward "):
			in = false
		case in && t != "":
			out = append(out, "       "+t)
		}
	}
	return out
}

// durationFlag is a duration flag that reads keys.ParseDuration ("30d",
// "1d12h" as well as Go's "720h") and shows its value as
// keys.FormatDuration writes it ("1h", not "1h0m0s"). It wraps the flag's
// own value, so the variable the command bound is the one set.
type durationFlag struct{ pflag.Value }

func (d durationFlag) Set(s string) error {
	v, err := keys.ParseDuration(s)
	if err != nil {
		return err
	}
	return d.Value.Set(v.String())
}

func (d durationFlag) String() string { return canonicalDuration(d.Value.String()) }

// canonicalDuration rewrites a Go duration string as keys.FormatDuration
// writes it; anything else is returned as it is.
func canonicalDuration(s string) string {
	v, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	return keys.FormatDuration(v)
}

// readableDurations makes every duration flag of fs a durationFlag, so
// that each command's flags, and the environment variables applied to
// them, accept days.
func readableDurations(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if _, done := f.Value.(durationFlag); done || f.Value.Type() != "duration" {
			return
		}
		f.Value = durationFlag{f.Value}
		f.DefValue = canonicalDuration(f.DefValue)
	})
}
