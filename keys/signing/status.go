package signing

import "time"

// Loaded returns the keys of this instance's in-memory snapshot, in every
// state, as of the last reload: no database call, so monitoring can ask
// as often as it likes. The records are shared: do not modify them. It
// is nil before the first Reload or Bootstrap.
func (s *Service) Loaded() []*Record {
	set := s.set.Load()
	if set == nil {
		return nil
	}
	return set.records
}

// NextRotation returns when Run's maintenance will rotate alg's active
// key: once it is Config.RotationPeriod old and the next key has been
// published for Config.NextDwell (Maintain), at the first maintenance
// after that. ok is false when no rotation is scheduled: RotationPeriod
// is zero, alg is not configured, or the snapshot holds no active key of
// alg.
func (s *Service) NextRotation(alg string) (time.Time, bool) {
	if s.cfg.RotationPeriod <= 0 {
		return time.Time{}, false
	}
	configured := false
	for _, a := range s.cfg.Algorithms {
		configured = configured || a == alg
	}
	if !configured {
		return time.Time{}, false
	}
	var active, next *Record
	for _, r := range s.Loaded() {
		if r.Alg != alg {
			continue
		}
		switch r.State {
		case StateActive:
			active = r
		case StateNext:
			next = r
		}
	}
	if active == nil {
		return time.Time{}, false
	}
	// Without a next key, maintenance makes one first, which must then
	// dwell like any other.
	published := s.now()
	if next != nil {
		published = next.CreatedAt
	}
	return later(active.ActivatedAt.Add(s.cfg.RotationPeriod), published.Add(s.cfg.NextDwell)), true
}

// RotationPeriod is Config.RotationPeriod: the age at which Run rotates
// an active key, 0 when scheduled rotation is off.
func (s *Service) RotationPeriod() time.Duration { return s.cfg.RotationPeriod }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
