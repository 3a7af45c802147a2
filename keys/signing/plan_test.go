package signing

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestPlan checks each life-cycle rule on its own: the resulting states,
// and the order of the writes (a demotion always precedes the promotion
// that replaces it, so the one-active index holds after every statement).
func TestPlan(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := &Config{MaxTokenLifetime: time.Hour, RotationPeriod: 24 * time.Hour, NextDwell: time.Hour, JWKSMaxAge: 15 * time.Minute}
	// rotate runs an on-demand rotation; early marks a refusal.
	rotate := func(wait bool) func(p *plan) error {
		return func(p *plan) error {
			early, err := p.rotate(wait)
			if early != nil {
				p.writes = append(p.writes, &Record{KID: "early", State: State(early.KID)})
			}
			return err
		}
	}
	key := func(kid string, st State) *Record {
		return &Record{KID: kid, Alg: ES256, State: st, CreatedAt: t0, ActivatedAt: t0}
	}
	fresh := []*Record{{KID: "f1", Alg: ES256}, {KID: "f2", Alg: ES256}}
	tests := []struct {
		name   string
		keys   []*Record
		now    time.Duration
		run    func(p *plan) error
		writes []string // kid:state in write order
	}{
		{"ensure on empty", nil, 0, (*plan).ensure, []string{"f1:active", "f2:next"}},
		{"ensure promotes next", []*Record{key("n", StateNext)}, 0, (*plan).ensure, []string{"n:active", "f1:next"}},
		{"ensure with both", []*Record{key("a", StateActive), key("n", StateNext)}, 0, (*plan).ensure, nil},
		{"rotate", []*Record{key("a", StateActive), key("n", StateNext)}, 15 * time.Minute, rotate(true),
			[]string{"a:retiring", "n:active", "f1:next"}},
		{"rotate too early", []*Record{key("a", StateActive), {KID: "n", Alg: ES256, State: StateNext, CreatedAt: t0.Add(time.Minute)}},
			15 * time.Minute, rotate(true), []string{"early:n"}},
		{"rotate the first next key at once", []*Record{key("a", StateActive), key("n", StateNext)}, time.Minute, rotate(true),
			[]string{"a:retiring", "n:active", "f1:next"}},
		{"rotate forced", []*Record{key("a", StateActive), key("n", StateNext)}, 0, rotate(false),
			[]string{"a:retiring", "n:active", "f1:next"}},
		{"rotate without next publishes one", []*Record{key("a", StateActive)}, time.Hour, rotate(true),
			[]string{"f1:next", "early:"}},
		{"rotate forced without next", []*Record{key("a", StateActive)}, 0, rotate(false),
			[]string{"a:retiring", "f1:active", "f2:next"}},
		{"rotate not due", []*Record{key("a", StateActive), key("n", StateNext)}, 23 * time.Hour,
			func(p *plan) error { _, err := p.rotateDue(); return err }, nil},
		{"rotate due", []*Record{key("a", StateActive), key("n", StateNext)}, 24 * time.Hour,
			func(p *plan) error { _, err := p.rotateDue(); return err }, []string{"a:retiring", "n:active", "f1:next"}},
		{"retire due", []*Record{
			{KID: "r1", Alg: ES256, State: StateRetiring, RetireAfter: t0.Add(time.Hour)},
			{KID: "r2", Alg: ES256, State: StateRetiring, RetireAfter: t0.Add(2 * time.Hour)},
		}, time.Hour, func(p *plan) error { p.retireDue(); return nil }, []string{"r1:retired"}},
		{"revoke active", []*Record{key("a", StateActive), key("n", StateNext)}, 0,
			func(p *plan) error { return p.revoke("a", true) }, []string{"a:retired", "n:active", "f1:next"}},
		{"revoke unknown", nil, 0, func(p *plan) error { return p.revoke("x", true) }, []string{"error"}},
		{"import next", []*Record{key("a", StateActive), key("n", StateNext)}, 0,
			func(p *plan) error { return p.importKey(&Record{KID: "i", Alg: ES256}, StateNext) },
			[]string{"n:retired", "i:next"}},
		{"import active", []*Record{key("a", StateActive), key("n", StateNext)}, 0,
			func(p *plan) error { return p.importKey(&Record{KID: "i", Alg: ES256}, StateActive) },
			[]string{"a:retiring", "i:active"}},
		{"import existing", []*Record{key("a", StateActive)}, 0,
			func(p *plan) error { return p.importKey(&Record{KID: "a", Alg: ES256}, StateActive) }, []string{"error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlan(cfg, ES256, t0.Add(tc.now), tc.keys, fresh)
			var got []string
			if err := tc.run(p); err != nil {
				got = []string{"error"}
			} else {
				for _, w := range p.writes {
					got = append(got, fmt.Sprintf("%s:%s", w.KID, w.State))
				}
			}
			if !reflect.DeepEqual(got, tc.writes) {
				t.Fatalf("writes %v; want %v", got, tc.writes)
			}
			for _, w := range p.writes {
				if w.State == StateRetiring && !w.RetireAfter.Equal(p.now.Add(time.Hour)) {
					t.Errorf("%s retires after %v", w.KID, w.RetireAfter)
				}
			}
		})
	}
	// Plans never change the records they were given.
	orig := []*Record{key("a", StateActive)}
	p := newPlan(cfg, ES256, t0, orig, fresh)
	p.rotate(false)
	if orig[0].State != StateActive || fresh[0].State != "" {
		t.Fatal("plan mutated its input")
	}
}
