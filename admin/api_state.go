package admin

import (
	"sync"

	"github.com/google/uuid"

	"github.com/keyward/keyward/admin/internal/seal"
)

// Purposes of the keys the API derives from the system secret.
const (
	purposeWebhookSecret = "keyward webhook-secret v1"
	purposeIdempotency   = "keyward idempotent-response v1"
)

// apiState is what the REST API keeps beside the Config.
type apiState struct {
	webhookSeal *seal.Sealer
	idemSeal    *seal.Sealer
	hooks       *dispatcher
	// usersMu serializes user changes, for the last-admin check.
	usersMu sync.Mutex
}

func newAPIState(s *Server) *apiState {
	return &apiState{
		webhookSeal: seal.New(s.cfg.Secret.Derive(purposeWebhookSecret)),
		idemSeal:    seal.New(s.cfg.Secret.Derive(purposeIdempotency)),
		hooks:       newDispatcher(s),
	}
}

// newAPIID returns a new time-ordered id (UUIDv7, RFC 9562 §5.7) for the
// records the API creates itself.
func newAPIID() string { return uuid.Must(uuid.NewV7()).String() }
