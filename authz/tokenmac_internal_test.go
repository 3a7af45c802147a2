package authz

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	enigma "github.com/ory/fosite/token/hmac"

	"github.com/keyward/keyward/store"
)

// macCase is a configuration of secrets both checks are built from.
type macCase struct {
	name    string
	global  []byte
	rotated [][]byte
	hasher  bool // a hash of the configuration's own (SHA-256)
	entropy int  // fosite's TokenEntropy (0: its default)
}

func macSecretOf(c byte, n int) []byte { return []byte(strings.Repeat(string(c), n)) }

var macCases = []macCase{
	{name: "global", global: macSecretOf('a', 32)},
	{name: "long global", global: macSecretOf('b', 45)},
	{name: "global and rotated", global: macSecretOf('a', 32), rotated: [][]byte{macSecretOf('c', 32), macSecretOf('d', 40)}},
	{name: "rotated only", rotated: [][]byte{macSecretOf('c', 32)}},
	{name: "short global", global: macSecretOf('e', 12)},
	{name: "short rotated", global: macSecretOf('a', 32), rotated: [][]byte{macSecretOf('f', 8)}},
	{name: "none"},
	{name: "own hash", global: macSecretOf('a', 32), hasher: true},
}

func (c macCase) config() *fosite.Config {
	cfg := &fosite.Config{GlobalSecret: c.global, RotatedGlobalSecrets: c.rotated,
		AccessTokenLifespan: time.Hour, AuthorizeCodeLifespan: 10 * time.Minute, TokenEntropy: c.entropy}
	if c.hasher {
		cfg.HMACHasher = sha256.New
	}
	return cfg
}

// checks returns the pooled check and fosite's, built from the same
// configuration.
func (c macCase) checks(tb testing.TB) (*fosite.Config, *tokenMACs, *enigma.HMACStrategy) {
	tb.Helper()
	cfg := c.config()
	mine, err := newTokenMACs(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, mine, &enigma.HMACStrategy{Config: cfg}
}

// macTokens are tokens to check: ones the configurations issue, altered,
// and malformed.
func macTokens(t testing.TB) []string {
	ctx := context.Background()
	var out []string
	for _, c := range macCases {
		tok, _, err := (&enigma.HMACStrategy{Config: c.config()}).Generate(ctx)
		if err != nil {
			continue // the configurations fosite cannot issue with
		}
		key, mac, _ := strings.Cut(tok, ".")
		flipped := []byte(mac)
		flipped[3] ^= 1
		out = append(out, tok, key+"."+string(flipped), key[:len(key)-1]+"A."+mac, key+"."+mac[:len(mac)-2],
			key+"."+mac+"AAAA", key+"."+mac+".", key+mac, "."+mac, key+".", key+".="+mac, "!"+key+"."+mac,
			key+"."+mac+"!", strings.Repeat(key, 4)+"."+mac, key+"."+strings.Repeat(mac, 4))
	}
	if len(out) == 0 {
		t.Fatal("no configuration issued a token")
	}
	return append(out, "", ".", "a.b", "a.", "x", "....", "a.b.c", ".b")
}

// sameMACAnswer fails unless two checks answered alike: both nil, or both
// the same fosite error, or both other errors with the same text.
func sameMACAnswer(t testing.TB, what string, got, want error) {
	t.Helper()
	switch {
	case (got == nil) != (want == nil):
		t.Fatalf("%s: got %v, fosite %v", what, got, want)
	case got == nil:
	case errors.Is(want, fosite.ErrTokenSignatureMismatch), errors.Is(want, fosite.ErrInvalidTokenFormat),
		errors.Is(want, fosite.ErrTokenExpired):
		var w *fosite.RFC6749Error
		errors.As(want, &w)
		if !errors.Is(got, w) {
			t.Fatalf("%s: got %v, fosite %v", what, got, want)
		}
		if w.HintField != "" {
			var g *fosite.RFC6749Error
			if !errors.As(got, &g) || g.HintField != w.HintField {
				t.Fatalf("%s: hint %q, fosite's %q", what, g.HintField, w.HintField)
			}
		}
	default:
		if got.Error() != want.Error() {
			t.Fatalf("%s: got %q, fosite %q", what, got, want)
		}
	}
}

// sameSignature fails unless hmacSignature names tok as fosite does, bare
// and with each of Keyward's prefixes.
func sameSignature(t testing.TB, tok string, theirs *enigma.HMACStrategy) {
	t.Helper()
	want := theirs.Signature(tok)
	for _, p := range []string{"", prefixAccess, prefixRefresh, prefixCode} {
		if got := hmacSignature(p + tok); got != want {
			t.Fatalf("signature of %q: %q, fosite's %q", p+tok, got, want)
		}
	}
}

// TestTokenMACsAgreeWithFosite checks the pooled HMAC check and the
// signature against fosite's enigma.HMACStrategy (Validate, Signature),
// for every configuration of secrets (rotated ones, short ones, none,
// another hash) and tokens issued under each, altered and malformed.
func TestTokenMACsAgreeWithFosite(t *testing.T) {
	ctx := context.Background()
	tokens := macTokens(t)
	for _, c := range macCases {
		t.Run(c.name, func(t *testing.T) {
			_, mine, theirs := c.checks(t)
			valid := 0
			for _, tok := range tokens {
				got, want := mine.validate(tok), theirs.Validate(ctx, tok)
				sameMACAnswer(t, tok, got, want)
				sameSignature(t, tok, theirs)
				if want == nil {
					valid++
				}
			}
			if c.global != nil && len(c.global) >= minMACSecret && valid == 0 {
				t.Fatal("no token was valid: the comparison shows nothing")
			}
		})
	}
}

// FuzzTokenMACs compares the pooled HMAC check with fosite's on any
// string, under a global and a rotated secret.
func FuzzTokenMACs(f *testing.F) {
	for _, tok := range macTokens(f) {
		f.Add(tok)
	}
	ctx := context.Background()
	_, mine, theirs := macCases[2].checks(f)
	f.Fuzz(func(t *testing.T, tok string) {
		sameMACAnswer(t, tok, mine.validate(tok), theirs.Validate(ctx, tok))
		sameSignature(t, tok, theirs)
	})
}

// TestHMACTokenValidationAgreesWithFosite checks tokenStrategy's
// validation of access tokens, refresh tokens and codes, expiry included,
// against fosite's HMAC strategy, whose rules it keeps.
func TestHMACTokenValidationAgreesWithFosite(t *testing.T) {
	ctx := context.Background()
	cfg, macs, enigmaOf := macCases[2].checks(t)
	theirs := oauth2.NewHMACSHAStrategyUnPrefixed(enigmaOf, cfg)
	mine := &tokenStrategy{cfg: cfg, macs: macs, now: time.Now}
	tok, _, err := theirs.Enigma.Generate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, mac, _ := strings.Cut(tok, ".")
	bad := key + "." + strings.ToUpper(mac[:4]) + mac[4:]
	now := time.Now()
	times := []time.Time{{}, now.Add(-time.Hour), now.Add(-time.Second), now.Add(time.Minute), now.Add(48 * time.Hour)}
	requested := []time.Time{now, now.Add(-5 * time.Minute), now.Add(-2 * time.Hour), now.Add(-72 * time.Hour)}
	kinds := []struct {
		kind         fosite.TokenType
		prefix       string
		mine, theirs func(context.Context, fosite.Requester, string) error
	}{
		{fosite.AccessToken, prefixAccess, mine.ValidateAccessToken, theirs.ValidateAccessToken},
		{fosite.RefreshToken, prefixRefresh, mine.ValidateRefreshToken, theirs.ValidateRefreshToken},
		{fosite.AuthorizeCode, prefixCode, mine.ValidateAuthorizeCode, theirs.ValidateAuthorizeCode},
	}
	for _, k := range kinds {
		valid, expired := 0, 0
		for _, exp := range times {
			for _, at := range requested {
				sess := &openid.DefaultSession{}
				sess.SetExpiresAt(k.kind, exp)
				r := &fosite.Request{RequestedAt: at, Session: sess}
				for _, tk := range []string{tok, bad, "nodot"} {
					want := k.theirs(ctx, r, tk)
					got := k.mine(ctx, r, k.prefix+tk)
					sameMACAnswer(t, string(k.kind)+" "+tk, got, want)
					switch {
					case want == nil:
						valid++
					case errors.Is(want, fosite.ErrTokenExpired):
						expired++
					}
				}
			}
		}
		if valid == 0 || expired == 0 {
			t.Fatalf("%s: %d valid and %d expired answers: the comparison shows too little", k.kind, valid, expired)
		}
	}
}

// TestTokenMACsIssueAsFosite checks tokens issued with the pooled states
// against fosite's enigma.HMACStrategy: for every configuration of secrets
// and entropy, fosite's Validate accepts them and names them by the
// signature generate returned, their MAC is the global secret's (not a
// rotated one's), they have the shape of fosite's own (the
// same lengths of key and MAC), no two are alike, and a configuration
// fosite cannot issue with gives fosite's error.
func TestTokenMACsIssueAsFosite(t *testing.T) {
	ctx := context.Background()
	cases := append([]macCase(nil), macCases...)
	cases = append(cases, macCase{name: "entropy 16 (fosite's least is 32)", global: macSecretOf('a', 32), entropy: 16},
		macCase{name: "entropy 100", global: macSecretOf('a', 32), rotated: [][]byte{macSecretOf('c', 32)}, entropy: 100})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, mine, theirs := c.checks(t)
			want, _, wantErr := theirs.Generate(ctx)
			// fosite issues under the global secret alone.
			globalOnly := c
			globalOnly.rotated = nil
			_, _, global := globalOnly.checks(t)
			seen := map[string]bool{}
			for range 50 {
				tok, sig, err := mine.generate(prefixRefresh)
				if wantErr != nil {
					if err == nil || err.Error() != wantErr.Error() {
						t.Fatalf("issued with fosite refusing (%v): %q, %v", wantErr, tok, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				bare, ok := strings.CutPrefix(tok, prefixRefresh)
				if !ok || seen[bare] {
					t.Fatalf("token %q: no prefix, or issued twice", tok)
				}
				seen[bare] = true
				if err := theirs.Validate(ctx, bare); err != nil {
					t.Fatalf("fosite refuses %q: %v", bare, err)
				}
				if err := global.Validate(ctx, bare); err != nil {
					t.Fatalf("%q is not MACed under the global secret: %v", bare, err)
				}
				if err := mine.validate(bare); err != nil {
					t.Fatalf("the pooled check refuses %q: %v", bare, err)
				}
				if got := theirs.Signature(bare); got != sig {
					t.Fatalf("signature %q, fosite names the token %q", sig, got)
				}
				k, m, _ := strings.Cut(bare, ".")
				wk, wm, _ := strings.Cut(want, ".")
				if len(k) != len(wk) || len(m) != len(wm) {
					t.Fatalf("token %q, fosite's shape %q", bare, want)
				}
			}
		})
	}
}

// TestStrategyIssuesHMACTokensItValidates: the opaque access tokens,
// refresh tokens and codes the strategy issues carry their prefix, pass
// its own checks and fosite's, and are named by the signature it returned.
func TestStrategyIssuesHMACTokensItValidates(t *testing.T) {
	ctx := context.Background()
	cfg, macs, theirs := macCases[2].checks(t)
	s := &tokenStrategy{cfg: cfg, macs: macs, now: time.Now}
	sess := &Session{DefaultSession: &openid.DefaultSession{}}
	req := fosite.NewRequest()
	req.SetSession(sess)
	req.Client = &fositeClient{c: &store.Client{AccessTokenFormat: "opaque"}}
	for _, k := range []struct {
		prefix   string
		issue    func(context.Context, fosite.Requester) (string, string, error)
		validate func(context.Context, fosite.Requester, string) error
		sig      func(context.Context, string) string
	}{
		{prefixAccess, s.GenerateAccessToken, s.ValidateAccessToken, s.AccessTokenSignature},
		{prefixRefresh, s.GenerateRefreshToken, s.ValidateRefreshToken, s.RefreshTokenSignature},
		{prefixCode, s.GenerateAuthorizeCode, s.ValidateAuthorizeCode, s.AuthorizeCodeSignature},
	} {
		tok, sig, err := k.issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, k.prefix) || k.sig(ctx, tok) != sig {
			t.Fatalf("%s token %q: signature %q, named %q", k.prefix, tok, sig, k.sig(ctx, tok))
		}
		if err := k.validate(ctx, req, tok); err != nil {
			t.Fatalf("%s token refused: %v", k.prefix, err)
		}
		if err := theirs.Validate(ctx, strings.TrimPrefix(tok, k.prefix)); err != nil {
			t.Fatalf("%s token refused by fosite: %v", k.prefix, err)
		}
		other := "AA" // another MAC: the last two characters changed (never to themselves)
		if strings.HasSuffix(tok, other) {
			other = "BA"
		}
		if err := k.validate(ctx, req, tok[:len(tok)-2]+other); err == nil {
			t.Fatalf("%s token with another MAC accepted", k.prefix)
		}
	}
	if sess.AccessFormat != "opaque" {
		t.Fatalf("session's access format %q", sess.AccessFormat)
	}
}

// BenchmarkTokenMAC compares a valid token's HMAC check, pooled and
// fosite's.
func BenchmarkTokenMAC(b *testing.B) {
	ctx := context.Background()
	_, mine, theirs := macCases[0].checks(b)
	tok, _, err := theirs.Generate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if mine.validate(tok) != nil {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("fosite", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if theirs.Validate(ctx, tok) != nil {
				b.Fatal("invalid")
			}
		}
	})
}

// BenchmarkTokenIssue compares issuing an HMAC token, pooled and
// fosite's (one lock for all), on as many goroutines as GOMAXPROCS.
func BenchmarkTokenIssue(b *testing.B) {
	ctx := context.Background()
	_, mine, theirs := macCases[0].checks(b)
	for _, w := range []struct {
		name  string
		issue func() (string, string, error)
	}{
		{"pooled", func() (string, string, error) { return mine.generate(prefixAccess) }},
		{"fosite", func() (string, string, error) { return theirs.Generate(ctx) }},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := w.issue(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
