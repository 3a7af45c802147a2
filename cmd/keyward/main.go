// Command keyward is the Keyward authorization server and its management
// commands. See CONTRACT.md for the interface and README.md to start.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; restoring the default
	// action lets a second one end the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	m.Close()
	os.Exit(code)
}
