package authz_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/pquerna/otp/totp"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/store"
)

// softKey is a passkey held in the test: an ES256 key whose assertions
// the test makes itself (WebAuthn §6.3.3), so it can make ones a browser
// would never send.
type softKey struct {
	id   []byte
	priv *ecdsa.PrivateKey
}

func newSoftKey(t *testing.T) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &softKey{id: []byte(rand.Text()), priv: priv}
}

// cose is the credential public key as stored (COSE_Key, RFC 9053).
func (k *softKey) cose(t *testing.T) []byte {
	var x, y [32]byte
	k.priv.PublicKey.X.FillBytes(x[:])
	k.priv.PublicKey.Y.FillBytes(y[:])
	b, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: x[:], YCoord: y[:]})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assert answers the challenge as if at origin, with signature counter
// count, for the discoverable credential of userID.
func (k *softKey) assert(t *testing.T, rpID, origin, challenge string, count uint32, userID string) []byte {
	cdj, _ := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": challenge, "origin": origin, "crossOrigin": false})
	rp := sha256.Sum256([]byte(rpID))
	ad := append(rp[:], 0x01|0x04) // UP and UV
	ad = binary.BigEndian.AppendUint32(ad, count)
	ch := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, ad...), ch[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	body, _ := json.Marshal(map[string]any{"id": enc(k.id), "rawId": enc(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": enc(cdj), "authenticatorData": enc(ad), "signature": enc(sig),
			"userHandle": enc([]byte(userID))}})
	return body
}

// ceremony posts a passkey ceremony call as passkey.js does.
func (b *testBrowser) ceremony(path, csrf string, body []byte) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	return b.do(req)
}

var dataCSRF = regexp.MustCompile(`id="passkey-login"[^>]*data-csrf="([^"]+)"`)

// TestBadInputAudited: each bad input of issue 13's list ends in a clear
// answer (an HTML page, or for a passkey ceremony, which the page runs
// with fetch, a JSON message the page shows) and an audit event naming
// the reason, signs nobody in, and creates no user. The upstream cases
// (unknown or disabled provider, state or nonce mismatch, an expired
// state) are TestUpstreamSignInRefused's.
func TestBadInputAudited(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	s := newTestServer(t, authztest.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	ctx := context.Background()
	s.user("henry", "henry-password-1")
	henry, err := s.st.DB.GetUserByUsername(ctx, "henry")
	if err != nil {
		t.Fatal(err)
	}
	key := newSoftKey(t)
	if err := s.st.DB.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: key.id, UserID: henry.ID, Name: "Soft key",
		PublicKey: key.cose(t), SignCount: 10, UserVerified: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	factors, err := accounts.NewFactors(s.st.DB, s.st.Secret, "Keyward", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	en, err := factors.BeginTOTP(ctx, henry)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret, time.Now())
	if err := factors.ConfirmTOTP(ctx, henry.ID, code); err != nil {
		t.Fatal(err)
	}
	code, _ = totp.GenerateCode(en.Secret, time.Now().Add(30*time.Second)) // the next step: not used yet

	// passkeyBegin starts a passkey sign-in and returns its CSRF token
	// and challenge.
	passkeyBegin := func(b *testBrowser) (string, string) {
		t.Helper()
		m := dataCSRF.FindStringSubmatch(b.get("/login").body)
		if m == nil {
			t.Fatal("the login page has no passkey sign-in")
		}
		a := b.ceremony("/login/passkey/begin", m[1], []byte("{}"))
		var opts struct {
			PublicKey struct{ Challenge string } `json:"publicKey"`
		}
		if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &opts) != nil || opts.PublicKey.Challenge == "" {
			t.Fatalf("passkey begin: %d %s", a.status, a.body)
		}
		return m[1], opts.PublicKey.Challenge
	}
	// secondStep signs in with the password and posts a TOTP code.
	secondStep := func(b *testBrowser, code string, wait time.Duration) answer {
		t.Helper()
		if a := b.login("henry", "henry-password-1"); a.status != http.StatusSeeOther {
			t.Fatalf("password: %d", a.status)
		}
		page := b.get("/login/mfa")
		csrf := inputValue(page.doc, "csrf_token")
		skew.Add(int64(wait))
		defer skew.Add(-int64(wait))
		return b.post("/login/mfa", url.Values{"csrf_token": {csrf}, "method": {"totp"}, "code": {code}})
	}
	const origin, rpID = "https://issuer.example", "issuer.example"

	cases := []struct {
		name, event, reason string
		status              int
		html                bool
		run                 func(b *testBrowser) answer
	}{
		{"passkey for another origin", "user.factor_failed", "origin_mismatch", http.StatusUnauthorized, false, func(b *testBrowser) answer {
			csrf, ch := passkeyBegin(b)
			return b.ceremony("/login/passkey/finish", csrf, key.assert(t, rpID, "https://evil.example", ch, 11, henry.ID))
		}},
		{"passkey with a stale counter", "user.factor_failed", "clone_warning", http.StatusUnauthorized, false, func(b *testBrowser) answer {
			csrf, ch := passkeyBegin(b)
			return b.ceremony("/login/passkey/finish", csrf, key.assert(t, rpID, origin, ch, 3, henry.ID))
		}},
		{"passkey ceremony expired", "passkey.sign_in_failed", "expired", http.StatusBadRequest, false, func(b *testBrowser) answer {
			csrf, ch := passkeyBegin(b)
			skew.Add(int64(6 * time.Minute))
			defer skew.Add(-int64(6 * time.Minute))
			return b.ceremony("/login/passkey/finish", csrf, key.assert(t, rpID, origin, ch, 12, henry.ID))
		}},
		{"passkey not registered here", "passkey.sign_in_failed", "unknown_credential", http.StatusUnauthorized, false, func(b *testBrowser) answer {
			csrf, ch := passkeyBegin(b)
			return b.ceremony("/login/passkey/finish", csrf, newSoftKey(t).assert(t, rpID, origin, ch, 1, henry.ID))
		}},
		{"TOTP code reused", "user.factor_failed", "replayed", http.StatusUnauthorized, true, func(b *testBrowser) answer {
			if a := secondStep(s.browser(""), code, 0); a.status != http.StatusSeeOther && a.status != http.StatusOK {
				t.Fatalf("first use of the code: %d %.300s", a.status, a.body)
			}
			return secondStep(b, code, 0)
		}},
		{"second step expired", "user.factor_failed", "expired", http.StatusBadRequest, true, func(b *testBrowser) answer {
			next, _ := totp.GenerateCode(en.Secret, time.Now().Add(11*time.Minute))
			return secondStep(b, next, 11*time.Minute)
		}},
	}
	users := func() int {
		us, _, err := s.st.DB.ListUsers(ctx, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	before := users()
	for _, tc := range cases {
		seen := map[string]bool{}
		evs, _, _ := s.st.DB.ListAudit(ctx, store.AuditFilter{Type: tc.event}, store.Page{Limit: 100})
		for _, ev := range evs {
			seen[ev.ID] = true
		}
		b := s.browser("")
		a := tc.run(b)
		if tc.html {
			if title := wantHTMLPage(t, tc.name, a, tc.status); title == "" {
				t.Errorf("%s: no heading", tc.name)
			}
		} else {
			var msg struct{ Error, Message string }
			if a.status != tc.status || json.Unmarshal([]byte(a.body), &msg) != nil || msg.Message == "" || msg.Error == "" {
				t.Errorf("%s: %d %s, want %d with a message for the page", tc.name, a.status, a.body, tc.status)
			}
		}
		evs, _, _ = s.st.DB.ListAudit(ctx, store.AuditFilter{Type: tc.event}, store.Page{Limit: 100})
		var reasons []string
		for _, ev := range evs {
			if seen[ev.ID] {
				continue
			}
			var d struct{ Reason string }
			json.Unmarshal(ev.Data, &d)
			reasons = append(reasons, d.Reason)
		}
		if strings.Join(reasons, " ") != tc.reason {
			t.Errorf("%s: new %s events with reasons %q, want one with %q", tc.name, tc.event, reasons, tc.reason)
		}
		if acc := b.get("/account"); acc.status != http.StatusSeeOther || !strings.HasPrefix(acc.header.Get("Location"), "/login") {
			t.Errorf("%s: the browser is signed in (/account: %d)", tc.name, acc.status)
		}
	}
	if users() != before {
		t.Error("a refused sign-in created a user")
	}
}
