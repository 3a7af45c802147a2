package signing

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward/store"
)

// errNeedKey is returned by plan.take when the transition needs more
// freshly generated keys than were prepared; the Service generates more
// (outside the transaction) and runs it again.
var errNeedKey = errors.New("signing: transition needs another generated key")

// plan computes one transition of one algorithm in memory, from the keys
// read under the store's lock. Its methods are the life-cycle rules; they
// record the writes in an order that never breaks the one-active and
// one-next uniqueness rules mid-way, and the events to report once the
// transaction commits.
type plan struct {
	now time.Time
	cfg *Config
	alg string

	keys   []*Record // current keys of alg, cloned
	fresh  []*Record // generated keys not yet used
	dry    bool      // counting run: take never fails
	forced bool      // a rotation promotes a next key before its JWKS max-age
	asked  request   // the on-demand rotation being planned, as asked for
	taken  int
	writes []*Record
	events []event
}

// event is one transition, reported after commit.
type event struct {
	typ  string
	rec  *Record
	data map[string]any
}

func newPlan(cfg *Config, alg string, now time.Time, keys, fresh []*Record) *plan {
	p := &plan{now: now, cfg: cfg, alg: alg}
	for _, k := range keys {
		p.keys = append(p.keys, k.Clone())
	}
	for _, k := range fresh {
		p.fresh = append(p.fresh, k.Clone())
	}
	return p
}

// find returns the key of alg in state st, or nil.
func (p *plan) find(st State) *Record { return firstIn(p.keys, st) }

func (p *plan) byKID(kid string) *Record {
	for _, k := range p.keys {
		if k.KID == kid {
			return k
		}
	}
	return nil
}

// write records k as changed (or new), keeping the first position.
func (p *plan) write(k *Record) {
	for _, w := range p.writes {
		if w == k {
			return
		}
	}
	p.writes = append(p.writes, k)
}

func (p *plan) emit(typ string, k *Record, data map[string]any) {
	p.events = append(p.events, event{typ: typ, rec: k, data: data})
}

// take returns a fresh generated key, or errNeedKey.
func (p *plan) take() (*Record, error) {
	p.taken++
	if p.dry {
		return &Record{KID: "dry", Alg: p.alg, Origin: OriginGenerated}, nil
	}
	if len(p.fresh) == 0 {
		return nil, errNeedKey
	}
	k := p.fresh[0]
	p.fresh = p.fresh[1:]
	return k, nil
}

// insert adds a new key in state st.
func (p *plan) insert(k *Record, st State) {
	k.State, k.CreatedAt = st, p.now
	p.keys = append(p.keys, k)
	p.write(k)
	typ := EventCreated
	if k.Origin == OriginImported {
		typ = EventImported
	}
	p.emit(typ, k, map[string]any{"alg": k.Alg, "state": string(st)})
	if st == StateActive {
		k.ActivatedAt = p.now
		p.emit(EventActivated, k, p.activationData(k))
	}
}

// activate promotes an existing next key.
func (p *plan) activate(k *Record) {
	k.State, k.ActivatedAt = StateActive, p.now
	p.write(k)
	p.emit(EventActivated, k, p.activationData(k))
}

// activationData describes an activation for the audit log.
func (p *plan) activationData(k *Record) map[string]any {
	data := map[string]any{"alg": k.Alg}
	if p.forced {
		data["forced"] = true
	}
	return data
}

// demote moves the active key k to retiring: it stops signing now and
// stays published until every token it signed has expired.
func (p *plan) demote(k *Record) {
	k.State, k.RetiringAt = StateRetiring, p.now
	k.RetireAfter = p.now.Add(p.cfg.MaxTokenLifetime)
	p.write(k)
	p.emit(EventRetiring, k, map[string]any{"alg": k.Alg, "retire_after": k.RetireAfter})
}

// retire unpublishes k.
func (p *plan) retire(k *Record) {
	k.State, k.RetiredAt = StateRetired, p.now
	p.write(k)
	p.emit(EventRetired, k, map[string]any{"alg": k.Alg})
}

// ensure gives alg an active and a next key. Without an active key the
// next one is promoted at once, or a new key is activated directly: then
// either nothing signed for alg yet (first start), or the active key was
// just revoked, and a usable key now beats a published-first one.
func (p *plan) ensure() error {
	if p.find(StateActive) == nil {
		if next := p.find(StateNext); next != nil {
			p.activate(next)
		} else {
			k, err := p.take()
			if err != nil {
				return err
			}
			p.insert(k, StateActive)
		}
	}
	if p.find(StateNext) == nil {
		k, err := p.take()
		if err != nil {
			return err
		}
		p.insert(k, StateNext)
	}
	return nil
}

// activatedSince reports whether k became active at or after asked (the
// time a rotation was asked for; zero for none). Stored times keep
// microseconds, so asked is compared at millisecond precision.
func activatedSince(k *Record, asked time.Time) bool {
	return !asked.IsZero() && !k.ActivatedAt.Before(asked.Truncate(time.Millisecond))
}

// rotate promotes next to active (creating it first when missing), moves
// the previous active key to retiring and publishes a new next key. With
// wait it refuses, answering a *TooEarlyError, when the next key has been
// published for less than Config.JWKSMaxAge (if there is none, it
// publishes one and refuses), unless a rotation committed after p.asked
// was asked for (p.asked.answeredBy): that rotation stands for this one,
// and nothing changes.
func (p *plan) rotate(wait bool) (*TooEarlyError, error) {
	next := p.find(StateNext)
	if wait {
		if next == nil {
			k, err := p.take()
			if err != nil {
				return nil, err
			}
			p.insert(k, StateNext)
			return &TooEarlyError{Alg: p.alg, ReadyAt: p.now.Add(p.cfg.JWKSMaxAge), MaxAge: p.cfg.JWKSMaxAge}, nil
		}
		if early := notReady(p.keys, next, p.now, p.cfg.JWKSMaxAge); early != nil {
			if a := p.find(StateActive); a != nil && p.asked.answeredBy(a) {
				// Another rotation committed while this one waited (two
				// admins, or instances, asking at once): it answers
				// this one too.
				return nil, nil
			}
			return early, nil
		}
	}
	if next == nil {
		k, err := p.take()
		if err != nil {
			return nil, err
		}
		next = k
	}
	newNext, err := p.take()
	if err != nil {
		return nil, err
	}
	p.forced = !wait && (next.State != StateNext || notReady(p.keys, next, p.now, p.cfg.JWKSMaxAge) != nil)
	if active := p.find(StateActive); active != nil {
		p.demote(active)
	}
	if next.State == StateNext {
		p.activate(next)
	} else {
		p.insert(next, StateActive)
	}
	p.insert(newNext, StateNext)
	return nil, nil
}

// rotateDue rotates when the active key is older than the rotation period
// and the next key has been published for NextDwell. It reports whether
// it rotated.
func (p *plan) rotateDue() (bool, error) {
	active, next := p.find(StateActive), p.find(StateNext)
	if p.cfg.RotationPeriod <= 0 || active == nil || next == nil {
		return false, nil
	}
	if p.now.Before(active.ActivatedAt.Add(p.cfg.RotationPeriod)) || p.now.Before(next.CreatedAt.Add(p.cfg.NextDwell)) {
		return false, nil
	}
	_, err := p.rotate(false) // the dwell, longer than the JWKS max-age, has passed
	return true, err
}

// retireDue retires every retiring key whose RetireAfter has passed.
func (p *plan) retireDue() {
	for _, k := range p.keys {
		if k.State == StateRetiring && !p.now.Before(k.RetireAfter) {
			p.retire(k)
		}
	}
}

// revoke unpublishes kid at once and, when replace is set, gives the
// algorithm a new active or next key if kid was one (ensure). It returns
// store.ErrNotFound for an unknown kid and does nothing for a key revoked
// before.
func (p *plan) revoke(kid string, replace bool) error {
	k := p.byKID(kid)
	if k == nil {
		return store.ErrNotFound
	}
	if !k.RevokedAt.IsZero() {
		return nil
	}
	k.State, k.RevokedAt = StateRetired, p.now
	if k.RetiredAt.IsZero() {
		k.RetiredAt = p.now
	}
	p.write(k)
	p.emit(EventRevoked, k, map[string]any{"alg": k.Alg})
	if !replace {
		return nil
	}
	return p.ensure()
}

// importKey adds an imported key in state st, making room for it: an
// existing next key is retired (it never signed), an existing active key
// starts retiring. It returns store.ErrConflict when the kid exists.
func (p *plan) importKey(k *Record, st State) error {
	if p.byKID(k.KID) != nil {
		return fmt.Errorf("%w: kid %q exists", store.ErrConflict, k.KID)
	}
	switch st {
	case StateNext:
		if old := p.find(StateNext); old != nil {
			p.retire(old)
		}
	case StateActive:
		if old := p.find(StateActive); old != nil {
			p.demote(old)
		}
	}
	p.insert(k, st)
	switch st {
	case StateRetiring:
		k.RetiringAt, k.RetireAfter = p.now, p.now.Add(p.cfg.MaxTokenLifetime)
	case StateRetired:
		k.RetiredAt = p.now
	}
	return nil
}
