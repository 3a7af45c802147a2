package keys

// Observer is told the outcome of each verification and of each lookup in
// the key cache, for metrics (cmd/keyward implements it with Prometheus;
// keys imports no metrics library). Its methods run on the verification
// path: they must be fast, safe for concurrent use and never block.
// Config.Observer nil observes nothing, at no cost.
type Observer interface {
	// Verified counts one Verify call (Inspect is not counted) by its
	// Code; a store failure, which has no answer, is the empty Code.
	Verified(code Code)
	// CacheLookup counts one lookup of a key record by id: hit when the
	// cache answered (an id remembered as unknown included), a miss when
	// the store was read.
	CacheLookup(hit bool)
}

// Codes is every Code Verify answers, for observers that resolve their
// metric series up front.
var Codes = []Code{CodeValid, CodeNotFound, CodeRevoked, CodeExpired, CodeRateLimited, CodeInsufficientScope}

// noObserver observes nothing: Config.Observer's nil.
type noObserver struct{}

func (noObserver) Verified(Code)    {}
func (noObserver) CacheLookup(bool) {}

var _ Observer = noObserver{}
