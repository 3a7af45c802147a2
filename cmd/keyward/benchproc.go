package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// keyward bench runs the server under test, and the hello handler it is
// compared with, each in a process of its own started from its own
// executable, so that the resident memory it reports is the server's alone
// and the load generator's work and memory are not in it. The children are
// internal commands, not part of the interface:
//
//	keyward bench serve-child SERVE-FLAGS...   serve, on the listeners passed as fds 3 and 4
//	keyward bench hello-child                  the hello handler, on the listener passed as fd 3
//
// A child writes "ready" on standard output once it serves, and stops
// (gracefully) when its standard input closes, so it never outlives the
// bench, even one that was killed.
const (
	benchServeChild = "serve-child"
	benchHelloChild = "hello-child"
)

// benchChild is a running child of keyward bench.
type benchChild struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the process has exited
	err   error         // Wait's answer, once done
}

// startBenchChild starts "keyward bench KIND args...", hands it lns (fd
// 3, 4, …), and waits until it reports that it serves. env is added to an
// environment from which every KEYWARD_ variable was removed (a bench never
// reaches a real database by accident). The child's standard error goes to
// stderr.
func startBenchChild(ctx context.Context, kind string, lns []net.Listener, args, env []string, stderr io.Writer) (*benchChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: finding its own executable: %w", err)
	}
	cmd := exec.Command(exe, append([]string{"bench", kind}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYWARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	for _, ln := range lns {
		f, err := ln.(*net.TCPListener).File() // a duplicate: the child gets its own
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting %s: %w", kind, err)
	}
	c := &benchChild{name: kind, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := sc.Scan() && sc.Text() == "ready"
		ready <- ok
		io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.done)
	}()
	fail := func(err error) (*benchChild, error) {
		c.stop()
		return nil, err
	}
	select {
	case ok := <-ready:
		if !ok {
			<-c.done
			return fail(fmt.Errorf("bench: the %s process ended before serving (%v); its errors are above", kind, c.err))
		}
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(2 * time.Minute):
		return fail(fmt.Errorf("bench: the %s process did not start within 2 minutes", kind))
	}
	return c, nil
}

// pid is the child's process id.
func (c *benchChild) pid() int { return c.cmd.Process.Pid }

// alive reports an error when the child has exited.
func (c *benchChild) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("bench: the %s process exited: %v", c.name, c.err)
	default:
		return nil
	}
}

// stop closes the child's standard input (a graceful shutdown) and waits
// for it to exit, killing it after 30 seconds.
func (c *benchChild) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// benchChildMain is the child's side: "keyward bench serve-child|hello-child".
func (m *Main) benchChildMain(ctx context.Context, kind string, args []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the bench closes our standard input, or ended
		io.Copy(io.Discard, m.Stdin)
		cancel()
	}()
	inherited := func(fd uintptr) (net.Listener, error) {
		f := os.NewFile(fd, fmt.Sprintf("listener %d", fd))
		if f == nil {
			return nil, fmt.Errorf("bench %s: no listener at fd %d", kind, fd)
		}
		defer f.Close()
		return net.FileListener(f)
	}
	ready := m.Stdout
	switch kind {
	case benchHelloChild:
		ln, err := inherited(3)
		if err != nil {
			return err
		}
		gin.SetMode(gin.ReleaseMode)
		h := gin.New()
		h.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hello") })
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			hs.Close()
		}()
		fmt.Fprintln(ready, "ready")
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case benchServeChild:
		pub, err := inherited(3)
		if err != nil {
			return err
		}
		adm, err := inherited(4)
		if err != nil {
			pub.Close()
			return err
		}
		started := make(chan *Server, 1)
		m.PublicListener, m.AdminListener, m.Started = pub, adm, started
		m.Stdout = io.Discard // the banner
		m.Stderr = warningsOnly{m.Stderr}
		go func() {
			select {
			case <-started:
				fmt.Fprintln(ready, "ready")
			case <-ctx.Done():
			}
		}()
		return m.serve(ctx, args)
	}
	return usagef("bench: unknown internal command %q", kind)
}

// warningsOnly passes on the JSON log lines of level WARN and ERROR and
// drops the rest (the access log's line per request), as the in-process
// server of earlier versions logged to io.Discard: a bench measures the
// server, not its log's destination.
type warningsOnly struct{ w io.Writer }

func (w warningsOnly) Write(p []byte) (int, error) {
	head := p[:min(len(p), 64)]
	if bytes.Contains(head, []byte(`"level":"INFO"`)) || bytes.Contains(head, []byte(`"level":"DEBUG"`)) {
		return len(p), nil
	}
	return w.w.Write(p)
}
