package authz

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// TestPasskeyCounter checks the signature counter rules of usePasskey
// (WebAuthn §7.2 step 22): a counter that did not grow is refused as a
// possible clone, two uses racing from one stored value cannot both pass,
// and authenticators that keep no counter (always 0) are accepted.
func TestPasskeyCounter(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	u := &store.User{ID: "u1", Username: "alice", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	counted := &store.WebAuthnCredential{ID: []byte{1}, UserID: u.ID, Name: "Key", PublicKey: []byte("k"), SignCount: 5}
	uncounted := &store.WebAuthnCredential{ID: []byte{2}, UserID: u.ID, Name: "Phone", PublicKey: []byte("k"), BackupEligible: true}
	for _, c := range []*store.WebAuthnCredential{counted, uncounted} {
		if err := db.CreateWebAuthnCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	b := &browserFlow{store: db, now: time.Now, log: slog.New(slog.DiscardHandler), obs: noObserver{}}
	use := func(cred *store.WebAuthnCredential, count uint32, uv bool) ([]string, *httptest.ResponseRecorder) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/", nil)
		p := &protocol.ParsedCredentialAssertionData{}
		p.Response.AuthenticatorData.Counter = count
		p.Response.AuthenticatorData.Flags = protocol.FlagUserPresent
		if uv {
			p.Response.AuthenticatorData.Flags |= protocol.FlagUserVerified
		}
		amr, ok := b.usePasskey(c, u, cred, p)
		if ok != (amr != nil) {
			t.Fatalf("usePasskey: ok %v with amr %v", ok, amr)
		}
		return amr, w
	}
	for _, n := range []uint32{5, 4, 0} {
		if amr, w := use(counted, n, true); amr != nil || w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "clone_warning") {
			t.Errorf("counter %d after 5: amr %v, %d %s; want a clone warning", n, amr, w.Code, w.Body)
		}
	}
	if amr, w := use(counted, 6, true); !slices.Equal(amr, []string{amrHardware, amrUser, amrMFA}) {
		t.Fatalf("counter 6 after 5: amr %v (%d %s)", amr, w.Code, w.Body)
	}
	// A second assertion checked against the same stored value (5) loses
	// the compare-and-set.
	if amr, w := use(counted, 7, true); amr != nil || w.Code != http.StatusUnauthorized {
		t.Errorf("racing use: amr %v, %d", amr, w.Code)
	}
	got, _ := db.GetWebAuthnCredential(ctx, counted.ID)
	if got.SignCount != 6 || got.LastUsedAt.IsZero() {
		t.Errorf("stored counter %d, last used %v", got.SignCount, got.LastUsedAt)
	}
	// No counter at all; no user verification: one factor.
	for range 2 {
		if amr, w := use(uncounted, 0, false); !slices.Equal(amr, []string{amrSoftware}) {
			t.Errorf("uncounted passkey: amr %v (%d %s)", amr, w.Code, w.Body)
		}
	}
	if acrOf([]string{amrSoftware}) != ACRPassword || acrOf(withSecondFactor([]string{amrPassword}, amrOTP)) != ACRMFA {
		t.Error("acr of one and two factors")
	}
}

// TestCeremonyAnsweredOnce: a copy of the ceremony cookie, kept after the
// first answer cleared it, does not open the ceremony a second time.
func TestCeremonyAnsweredOnce(t *testing.T) {
	sealer, err := newCeremonySealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	b := &browserFlow{ceremonies: sealer, now: time.Now, issuer: "http://127.0.0.1"}
	rec := httptest.NewRecorder()
	cer := &ceremony{Purpose: "login", Session: webauthn.SessionData{Challenge: "challenge-1"}, Exp: time.Now().Add(time.Minute).Unix()}
	if err := b.saveCeremony(rec, httptest.NewRequest(http.MethodPost, "/", nil), cer); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	take := func() error {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.AddCookie(cookie)
		_, err := b.takeCeremony(httptest.NewRecorder(), r, "login")
		return err
	}
	if err := take(); err != nil {
		t.Fatalf("first answer: %v", err)
	}
	if err := take(); err == nil {
		t.Fatal("the same ceremony cookie was accepted twice")
	}
}
