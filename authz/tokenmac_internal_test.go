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
)

// macCase is a configuration of secrets both checks are built from.
type macCase struct {
	name    string
	global  []byte
	rotated [][]byte
	hasher  bool // a hash of the configuration's own (SHA-256)
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
		AccessTokenLifespan: time.Hour, AuthorizeCodeLifespan: 10 * time.Minute}
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
	return append(out, "", ".", "a.b", "a.", "x", "....")
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

// TestTokenMACsAgreeWithFosite checks the pooled HMAC check against
// fosite's enigma.HMACStrategy.Validate, for every configuration of
// secrets (rotated ones, short ones, none, another hash) and tokens
// issued under each, altered and malformed.
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
	})
}

// TestHMACTokenValidationAgreesWithFosite checks tokenStrategy's
// validation of access tokens, refresh tokens and codes, expiry included,
// against fosite's HMAC strategy, whose rules it keeps.
func TestHMACTokenValidationAgreesWithFosite(t *testing.T) {
	ctx := context.Background()
	cfg, macs, enigmaOf := macCases[2].checks(t)
	theirs := oauth2.NewHMACSHAStrategyUnPrefixed(enigmaOf, cfg)
	mine := &tokenStrategy{hmac: theirs, macs: macs, now: time.Now}
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
