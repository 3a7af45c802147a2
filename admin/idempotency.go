package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// Idempotent POSTs (the IETF httpapi draft "The Idempotency-Key HTTP
// Header Field"): a POST with an Idempotency-Key header is answered once;
// a retry with the same key and the same request (method, path and body)
// from the same principal within idempotencyTTL gets the stored status and
// body back, marked Idempotent-Replayed: true, without acting again. The
// same key with another request is a 422; a retry while the first request
// is still running is a 409. Answers of 500 and above are not kept, so a
// retry acts again.
const (
	idempotencyTTL = 24 * time.Hour
	// idempotencyAbandoned is when a record still without an answer is
	// taken for a crashed request and given to the next retry.
	idempotencyAbandoned = 5 * time.Minute
	maxIdempotencyKey    = 255
)

// idempotent is the middleware of every POST route.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		c.Next()
		return
	}
	if !validIdempotencyKey(key) {
		problem(c, http.StatusBadRequest, "bad-request", "Idempotency-Key must be 1 to 255 printable ASCII characters.")
		return
	}
	body, ok := readBody(c)
	if !ok {
		return
	}
	ctx, actor := c.Request.Context(), principalOf(c).Actor
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\x00"))
	h.Write(body)
	rec := &store.IdempotencyRecord{Principal: actor, Key: key, RequestHash: h.Sum(nil), CreatedAt: s.cfg.Now()}
	if !s.reserve(c, rec) {
		return
	}
	tee := &teeWriter{ResponseWriter: c.Writer}
	c.Writer = tee
	c.Next()

	ctx = context.WithoutCancel(ctx)
	status := tee.Status()
	if status >= 500 {
		if err := s.cfg.Store.DeleteIdempotencyRecord(ctx, actor, key); err != nil {
			s.cfg.Logger.Warn("idempotency: drop record", "err", err)
		}
		return
	}
	stored := append([]byte(tee.Header().Get("Content-Type")+"\n"), tee.buf.Bytes()...)
	sealed := s.idemSeal.Seal(stored, idempotencyAD(actor, key))
	if err := s.cfg.Store.CompleteIdempotencyRecord(ctx, actor, key, status, sealed); err != nil {
		s.cfg.Logger.Warn("idempotency: keep response", "err", err)
	}
}

// reserve stores rec, or answers from the record of an earlier request
// with the same key. It reports whether the handler should run.
func (s *Server) reserve(c *gin.Context, rec *store.IdempotencyRecord) bool {
	ctx := c.Request.Context()
	for range 3 {
		err := s.cfg.Store.CreateIdempotencyRecord(ctx, rec)
		if err == nil {
			return true
		}
		if !errors.Is(err, store.ErrConflict) {
			s.fail(c, err)
			return false
		}
		old, err := s.cfg.Store.GetIdempotencyRecord(ctx, rec.Principal, rec.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue // pruned meanwhile
		}
		if err != nil {
			s.fail(c, err)
			return false
		}
		age := s.cfg.Now().Sub(old.CreatedAt)
		if age > idempotencyTTL || (old.Status == 0 && age > idempotencyAbandoned) {
			if err := s.cfg.Store.DeleteIdempotencyRecord(ctx, rec.Principal, rec.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
				s.fail(c, err)
				return false
			}
			continue
		}
		if !hmac.Equal(old.RequestHash, rec.RequestHash) {
			problem(c, http.StatusUnprocessableEntity, "idempotency",
				"This Idempotency-Key was used for a different request; use a new key.")
			return false
		}
		if old.Status == 0 {
			c.Header("Retry-After", "1")
			problem(c, http.StatusConflict, "conflict", "A request with this Idempotency-Key is still being answered; retry shortly.")
			return false
		}
		s.replay(c, old)
		return false
	}
	problem(c, http.StatusConflict, "conflict", "The Idempotency-Key is in contention; retry shortly.")
	return false
}

// replay answers with a stored response.
func (s *Server) replay(c *gin.Context, rec *store.IdempotencyRecord) {
	stored, err := s.idemSeal.Open(rec.Body, idempotencyAD(rec.Principal, rec.Key))
	if err != nil {
		s.fail(c, err)
		return
	}
	ct, body, _ := bytes.Cut(stored, []byte("\n"))
	c.Header("Idempotent-Replayed", "true")
	if len(ct) == 0 {
		c.Status(rec.Status)
		c.Writer.WriteHeaderNow()
	} else {
		c.Data(rec.Status, string(ct), body)
	}
	c.Abort()
}

func idempotencyAD(principal, key string) []byte {
	return []byte(principal + "\x00" + key)
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// teeWriter keeps a copy of the response body.
var _ gin.ResponseWriter = (*teeWriter)(nil)

type teeWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) WriteString(s string) (int, error) {
	w.buf.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// pruneIdempotency removes expired records every hour until ctx ends.
func (s *Server) pruneIdempotency(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := s.cfg.Store.PruneIdempotencyRecords(ctx, s.cfg.Now().Add(-idempotencyTTL)); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("idempotency: prune", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
