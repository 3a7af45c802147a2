package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keyward/keyward/store"
)

// The second kind of delivery in the outbox: OpenID Connect Back-Channel
// Logout 1.0 logout tokens. authz queues them (store.BackchannelStore) in
// the transaction that ends a session; the Dispatcher delivers them with
// the webhooks' machinery (its poll loop and wake-ups, workers, timeout,
// HTTP client, backoff and pruning), each row under its own lease (no
// order is kept between logouts), asking LogoutTokens for a token signed
// at each attempt.

// DefaultLogoutRetryFor is how long a logout token is retried by default:
// long enough to ride out an RP's outage, short next to a session's life.
const DefaultLogoutRetryFor = 24 * time.Hour

// logoutBatch is how many logout deliveries one cycle leases.
const logoutBatch = 32

// LogoutStore is the back-channel logout outbox (store.BackchannelStore).
type LogoutStore interface {
	LeaseLogouts(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.LogoutDelivery, error)
	RecordLogoutAttempt(ctx context.Context, id int64, owner string, at time.Time, status int, errText string, r store.AttemptResult) error
	PruneLogouts(ctx context.Context, before time.Time) (int, error)
}

// LogoutTokens returns where to POST a delivery's logout token and the
// token, signed now (authz.Provider.LogoutToken).
type LogoutTokens interface {
	LogoutToken(ctx context.Context, d *store.LogoutDelivery) (uri, token string, err error)
}

// LogoutObserver is told of every logout attempt, for metrics: outcome is
// "delivered", "retrying", "failed" (out of retries) or "dropped" (the
// client no longer has a backchannel_logout_uri).
type LogoutObserver interface {
	LogoutDelivered(outcome string)
}

// LogoutConfig turns on back-channel logout delivery; Store and Tokens
// are required.
type LogoutConfig struct {
	Store  LogoutStore
	Tokens LogoutTokens
	// Gone is the error of Tokens for a client that no longer listens
	// (authz.ErrNoBackchannelURI): the delivery is dropped, not retried.
	Gone error
	// RetryFor is how long a delivery is retried after its first attempt
	// (default DefaultLogoutRetryFor).
	RetryFor time.Duration
	Observer LogoutObserver
}

// cycleLogouts leases the due logout deliveries and attempts each,
// Workers at a time; true when it leased a full batch (more may be due).
func (d *Dispatcher) cycleLogouts(ctx context.Context) bool {
	lc := d.cfg.Logouts
	if lc == nil || ctx.Err() != nil {
		return false
	}
	now := d.cfg.Now()
	due, err := lc.Store.LeaseLogouts(ctx, d.cfg.Owner, now, now.Add(d.leaseFor()), logoutBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Warn("backchannel logout: cannot read the outbox", "err", err)
		}
		return false
	}
	var (
		wg  sync.WaitGroup
		sem = make(chan struct{}, d.cfg.Workers)
	)
	for _, dl := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.attemptLogout(ctx, dl)
		}()
	}
	wg.Wait()
	return len(due) == logoutBatch
}

// attemptLogout makes one attempt at dl (Back-Channel Logout §2.5: a POST
// of logout_token, answered 200, or 204 as §2.8 allows) and records it.
func (d *Dispatcher) attemptLogout(ctx context.Context, dl *store.LogoutDelivery) {
	lc := d.cfg.Logouts
	start := d.cfg.Now()
	status := 0
	uri, token, err := lc.Tokens.LogoutToken(ctx, dl)
	gone := err != nil && lc.Gone != nil && errors.Is(err, lc.Gone)
	if err == nil {
		status, err = d.postLogout(ctx, uri, token)
		if err != nil && status == 0 && ctx.Err() != nil {
			return // cut short by a shutdown: the lease runs out and another try follows
		}
	}
	r := store.AttemptResult{Status: store.DeliveryDelivered}
	outcome := "delivered"
	switch {
	case gone:
		r.Status, outcome = store.DeliveryFailed, "dropped"
	case err != nil:
		first := dl.FirstAttemptAt
		if first.IsZero() {
			first = start
		}
		if start.Sub(first) >= lc.RetryFor {
			r.Status, outcome = store.DeliveryFailed, "failed"
		} else {
			r.Status, outcome = store.DeliveryPending, "retrying"
			r.NextAttemptAt = start.Add(d.backoff(dl.Attempts + 1))
		}
	}
	errText := ""
	if err != nil {
		errText = truncate(err.Error(), 500)
	}
	if err := lc.Store.RecordLogoutAttempt(context.WithoutCancel(ctx), dl.ID, d.cfg.Owner, store.Truncate(start),
		status, errText, r); err != nil {
		d.cfg.Logger.Warn("backchannel logout: cannot record an attempt", "delivery", dl.ID, "err", err)
		return
	}
	if lc.Observer != nil {
		lc.Observer.LogoutDelivered(outcome)
	}
	if err == nil {
		return
	}
	log := d.cfg.Logger.With("client", dl.ClientID, "delivery", dl.ID, "attempt", dl.Attempts+1, "err", err)
	switch r.Status {
	case store.DeliveryFailed:
		log.Error("backchannel logout failed; giving up", "outcome", outcome)
	default:
		log.Warn("backchannel logout failed; will retry", "at", r.NextAttemptAt)
	}
}

// postLogout POSTs the logout token to uri as a form (§2.5) and returns
// the answer's status; one other than 200 or 204 is an error.
func (d *Dispatcher) postLogout(ctx context.Context, uri, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Keyward-Backchannel-Logout/1")
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, unwrapURLError(err)
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // reuse the connection
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return resp.StatusCode, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// pruneLogouts drops finished logout deliveries older than the retention.
func (d *Dispatcher) pruneLogouts(ctx context.Context) {
	if d.cfg.Logouts == nil {
		return
	}
	if _, err := d.cfg.Logouts.Store.PruneLogouts(ctx, d.cfg.Now().Add(-d.cfg.Retention)); err != nil && ctx.Err() == nil {
		d.cfg.Logger.Warn("backchannel logout: prune the outbox", "err", err)
	}
}
