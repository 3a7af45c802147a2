package signing

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Run keeps this instance's keys current until ctx ends: it reloads on
// every notification on Channel (store.Resync included) and, every
// Config.ReloadInterval, runs Maintain. It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	poke := func(string) {
		select {
		case wake <- struct{}{}:
		default: // a reload is already pending
		}
	}
	if s.events != nil {
		cancel := s.events.Subscribe(Channel, poke)
		defer cancel()
		// A transition committed between Bootstrap and the subscription
		// would otherwise wait for the next periodic reload.
		poke("")
	}
	t := time.NewTicker(s.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("reloading signing keys", "err", err)
			}
		case <-t.C:
			if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("signing key maintenance", "err", err)
			}
		}
	}
}

// Maintain reloads the keys and runs what is due, each algorithm in one
// transition that checks again under the lock, so that of several
// instances only one acts: it gives a configured algorithm its missing
// active or next key, rotates an active key older than
// Config.RotationPeriod once the next key has been published for
// Config.NextDwell, and retires retiring keys whose RetireAfter has passed.
func (s *Service) Maintain(ctx context.Context) error {
	if err := s.Reload(ctx); err != nil {
		return err
	}
	now := s.now()
	var algs []string // algorithms with something due
	mark := func(alg string) {
		if !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	active, next := map[string]*Record{}, map[string]*Record{}
	for _, r := range s.set.Load().records {
		switch r.State {
		case StateActive:
			active[r.Alg] = r
		case StateNext:
			next[r.Alg] = r
		case StateRetiring:
			if !now.Before(r.RetireAfter) {
				mark(r.Alg)
			}
		}
	}
	for _, alg := range s.cfg.Algorithms {
		a, n := active[alg], next[alg]
		switch {
		case a == nil || n == nil:
			mark(alg)
		case s.cfg.RotationPeriod > 0 && !now.Before(a.ActivatedAt.Add(s.cfg.RotationPeriod)) &&
			!now.Before(n.CreatedAt.Add(s.cfg.NextDwell)):
			mark(alg)
		}
	}
	var errs []error
	for _, alg := range algs {
		configured := slices.Contains(s.cfg.Algorithms, alg)
		_, err := s.transition(ctx, alg, func(p *plan) error {
			p.retireDue()
			if !configured {
				return nil
			}
			if _, err := p.rotateDue(); err != nil {
				return err
			}
			return p.ensure()
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
