package signing

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
)

// maxAttempts bounds the re-runs of a transition that found, under the
// lock, that it needs more generated keys than its unlocked estimate.
const maxAttempts = 4

// transition runs fn as one atomic transition of alg. Keys are generated
// before the transaction (an RSA key takes a while), as many as a dry run
// of fn on the unlocked state asks for; the store then runs fn again under
// its lock, and records the transition's audit events in the same
// transaction. Once committed, the transition is logged, announced on
// Channel, and the snapshot reloaded.
func (s *Service) transition(ctx context.Context, alg string, fn func(*plan) error) (*plan, error) {
	need := s.estimate(ctx, alg, fn)
	var done *plan
	for attempt := 1; ; attempt++ {
		fresh, err := s.generateN(alg, need)
		if err != nil {
			return nil, err
		}
		err = s.atomic(ctx, func(ctx context.Context) error {
			err := s.store.UpdateSigningKeys(ctx, alg, func(keys []*Record) ([]*Record, error) {
				p := newPlan(&s.cfg, alg, s.now(), keys, fresh)
				if err := fn(p); err != nil {
					return nil, err
				}
				done = p
				return p.writes, nil
			})
			if err != nil {
				return err
			}
			return s.audit(ctx, done)
		})
		if errors.Is(err, errNeedKey) && attempt < maxAttempts {
			need++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("signing: %s: %w", alg, err)
		}
		break
	}
	if len(done.writes) == 0 {
		return done, nil
	}
	s.report(done)
	if s.events != nil {
		if err := s.events.Notify(ctx, Channel, alg); err != nil {
			s.cfg.Logger.Warn("signing keys changed but other instances were not notified; they reload within the reload interval",
				"alg", alg, "err", err)
		}
	}
	if err := s.Reload(ctx); err != nil {
		return done, err
	}
	return done, nil
}

// estimate counts the keys fn would generate on the current, unlocked
// state of alg.
func (s *Service) estimate(ctx context.Context, alg string, fn func(*plan) error) int {
	recs, err := s.store.SigningKeys(ctx)
	if err != nil {
		return 0 // the locked run reports the error
	}
	var mine []*Record
	for _, r := range recs {
		if r.Alg == alg {
			mine = append(mine, r)
		}
	}
	p := newPlan(&s.cfg, alg, s.now(), mine, nil)
	p.dry = true
	_ = fn(p)
	return p.taken
}

// generateN generates and seals n new keys for alg.
func (s *Service) generateN(alg string, n int) ([]*Record, error) {
	out := make([]*Record, 0, n)
	for range n {
		priv, err := generate(alg, s.cfg.Rand)
		if err != nil {
			return nil, fmt.Errorf("signing: generate %s key: %w", alg, err)
		}
		r, err := s.seal(alg, priv, "", OriginGenerated)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// seal returns a new record holding priv encrypted; kid defaults to the
// RFC 7638 thumbprint.
func (s *Service) seal(alg string, priv any, kid, origin string) (*Record, error) {
	signer, err := asSigner(priv)
	if err != nil {
		return nil, err
	}
	if err := checkKey(alg, signer); err != nil {
		return nil, err
	}
	if kid == "" {
		if kid, err = thumbprint(signer); err != nil {
			return nil, err
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return &Record{KID: kid, Alg: alg, Origin: origin, Sealed: s.sealer.seal(kid, alg, der)}, nil
}

// atomic runs fn in one store transaction when an Auditor is set: a
// transition and its audit events are committed together.
func (s *Service) atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.cfg.Auditor == nil {
		return fn(ctx)
	}
	return s.cfg.Auditor.Atomic(ctx, fn)
}

// audit records each event of a plan, in the plan's transaction.
func (s *Service) audit(ctx context.Context, p *plan) error {
	if s.cfg.Auditor == nil {
		return nil
	}
	for _, e := range p.events {
		data := map[string]any{"state": string(e.rec.State)}
		for k, v := range e.data {
			data[k] = v
		}
		if err := s.cfg.Auditor.Record(ctx, e.typ, e.rec.KID, data); err != nil {
			return err
		}
	}
	return nil
}

// report logs each event of a committed plan.
func (s *Service) report(p *plan) {
	for _, e := range p.events {
		s.cfg.Logger.Info("signing key "+e.typ[len("signing_key."):], "event", e.typ, "kid", e.rec.KID, "alg", e.rec.Alg, "state", string(e.rec.State))
	}
}
