//go:build reliability

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a throwaway PostgreSQL cluster of the reliability suite:
// initdb into a temporary directory, trust authentication, loopback only,
// on a free port, run as the postgres user when the test runs as root
// (PostgreSQL refuses root). The suite stops and starts it at will; it is
// never the shared cluster of the ordinary tests.
type pgCluster struct {
	t    *testing.T
	bin  string // directory holding initdb, pg_ctl and postgres
	dir  string // owns data/, the socket and the log
	port int
	sudo []string // runuser -u postgres -- when root, else empty
}

// newPGCluster creates and starts a cluster, or skips the test when the
// PostgreSQL server binaries are not installed (fails under CI=true).
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		msg := "the reliability suite needs the PostgreSQL server binaries (initdb, pg_ctl, postgres under " +
			"/usr/lib/postgresql/*/bin or on PATH): apt-get install -y postgresql"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &pgCluster{t: t, bin: bin}
	dir, err := os.MkdirTemp("", "keyward-reliability-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate") // may already be stopped
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user to run the cluster: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.sudo = []string{"runuser", "-u", "postgres", "--"}
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.port = freePort(t)
	c.start()
	return c
}

// pgBinDir returns the directory of the newest installed PostgreSQL
// server binaries, or "".
func pgBinDir() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return pgMajor(a) - pgMajor(b) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// pgMajor is the major version in /usr/lib/postgresql/<major>/bin/initdb.
func pgMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the cluster's database URL for keyward.
func (c *pgCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.port)
}

// run runs one of the cluster's binaries as the postgres user.
func (c *pgCluster) run(name string, args ...string) (string, error) {
	argv := append(append(slices.Clone(c.sudo), filepath.Join(c.bin, name)), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return string(out), err
}

func (c *pgCluster) pgctl(args ...string) (string, error) {
	return c.run("pg_ctl", append([]string{"-D", c.data(), "-w", "-t", "60"}, args...)...)
}

// start starts the server and waits until it accepts connections. fsync
// is off: the suite stops the server (an immediate stop is a crash of the
// server, not of the machine, so committed data is still in the page
// cache and survives), it never pulls the plug on the disk.
func (c *pgCluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off", c.port, c.dir)
	if out, err := c.pgctl("start", "-l", filepath.Join(c.dir, "postgres.log"), "-o", opts); err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, c.log())
	}
	conn, err := pgx.Connect(context.Background(), c.URL())
	if err != nil {
		c.t.Fatalf("connect to the reliability cluster: %v\n%s", err, c.log())
	}
	conn.Close(context.Background())
}

// stop stops the server at once (pg_ctl stop -m immediate): every
// connection drops, nothing is shut down cleanly, and the next start
// recovers from the WAL like after a crash.
func (c *pgCluster) stop() {
	c.t.Helper()
	if out, err := c.pgctl("stop", "-m", "immediate"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// log returns the end of the server's log, for failure messages.
func (c *pgCluster) log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	s := string(b)
	if i := strings.LastIndex(s[:max(0, len(s)-4000)], "\n"); i > 0 {
		s = s[i+1:]
	}
	return s
}
