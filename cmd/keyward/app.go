package main

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyward/keyward/keys"
)

// app is every service of a running server, wired by build.
type app struct {
	db      database
	secret  keys.Secret
	closers []func()
}

// build wires the services of serve through their constructors.
func (m *Main) build(ctx context.Context, db database, secret keys.Secret, reg prometheus.Registerer) (*app, error) {
	return &app{db: db, secret: secret}, nil
}

func (a *app) mountPublic(r gin.IRouter) {}

func (a *app) mountAdmin(r gin.IRouter) {}

// setupURL returns the one-time console setup link while no admin exists.
func (a *app) setupURL(ctx context.Context, adminURL string) string { return "" }

// runBackground starts the periodic jobs; the channel closes when they stop.
func (a *app) runBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		<-ctx.Done()
		close(done)
	}()
	return done
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}
