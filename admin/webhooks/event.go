package webhooks

import (
	"encoding/json"
	"time"

	"github.com/keyward/keyward/store"
)

// Event is the JSON form of an audit event: the body of a delivery, and
// an item of the admin API's GET /admin/v1/audit-events.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// NewEvent returns the JSON form of e; data that is missing or not JSON
// becomes {}.
func NewEvent(e *store.AuditEvent) Event {
	data := e.Data
	if len(data) == 0 || !json.Valid(data) {
		data = json.RawMessage("{}")
	}
	return Event{ID: e.ID, Type: e.Type, Actor: e.Actor, Subject: e.Subject, Data: data, CreatedAt: e.CreatedAt}
}
