package admin

import (
	"sync"

	"github.com/google/uuid"

	"github.com/keyward/keyward/admin/internal/seal"
)

// purposeIdempotency derives the key that seals idempotent answers.
const purposeIdempotency = "keyward idempotent-response v1"

// apiState is what the REST API keeps beside the Config.
type apiState struct {
	idemSeal *seal.Sealer
	// usersMu serializes user changes, for the last-admin check.
	usersMu sync.Mutex
}

func newAPIState(s *Server) *apiState {
	return &apiState{
		idemSeal: seal.New(s.cfg.Secret.Derive(purposeIdempotency)),
	}
}

// newAPIID returns a new time-ordered id (UUIDv7, RFC 9562 §5.7) for the
// records the API creates itself.
func newAPIID() string { return uuid.Must(uuid.NewV7()).String() }
