package authz

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// claimNote is a claim value of a type JSON decoding never makes: Clone
// copies it through deepcopy.
type claimNote struct {
	Tags []string
	At   time.Time
}

// cloneSamples are sessions as stored (the stored samples') and as built
// in memory, with claims of every shape.
func cloneSamples(t *testing.T) []*Session {
	var out []*Session
	for i, data := range storedSamples {
		sess := NewSession("")
		sr, err := parseStored([]byte(data), sess)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if sr.Session != nil {
			out = append(out, sr.Session)
		}
	}
	rich := NewSession("user-1")
	rich.UserID, rich.AccessJTI, rich.GrantResources = "user-1", "j1", []string{"https://a.example", "https://b.example"}
	rich.SetExpiresAt(fosite.AccessToken, time.Unix(1_800_000_000, 0))
	rich.Claims.Audience, rich.Claims.AuthenticationMethodsReferences = []string{"app"}, []string{}
	rich.Claims.Extra = map[string]any{"sid": "s1", "n": 3.5, "i": 7, "i64": int64(8), "num": json.Number("9"),
		"ok": true, "null": nil, "groups": []any{"a", map[string]any{"b": []any{1.0}}}, "scopes": []string{"x"},
		"empty": map[string]any{}, "nilList": []any(nil), "note": claimNote{Tags: []string{"t"}, At: time.Unix(1, 0)}}
	rich.Headers.Extra = map[string]any{"kid": "k1", "x5c": []any{"abc"}}
	bare := &Session{DefaultSession: &openid.DefaultSession{Subject: "s"}, GrantResources: []string{}}
	out = append(out, rich, bare, NewSession(""), &Session{Kind: "apikey"})
	return out
}

// TestSessionClone: Clone gives what fosite's deepcopy-based Clone gave
// (nil staying nil, empty staying empty), and shares nothing with the
// original: changing every map and slice of the copy leaves the original
// as it was.
func TestSessionClone(t *testing.T) {
	for i, s := range cloneSamples(t) {
		want := *s
		want.GrantResources = deepcopy.Copy(s.GrantResources).([]string)
		if s.DefaultSession != nil {
			want.DefaultSession = deepcopy.Copy(s.DefaultSession).(*openid.DefaultSession)
		}
		before := deepcopy.Copy(&want).(*Session)
		got := s.Clone().(*Session)
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("session %d: clone\n%+v\nwant\n%+v", i, got, &want)
		}
		// Change everything reachable in the copy.
		if got.GrantResources != nil {
			got.GrantResources = append(got.GrantResources[:0], "changed")
		}
		if d := got.DefaultSession; d != nil {
			if d.ExpiresAt != nil {
				d.ExpiresAt[fosite.RefreshToken] = time.Unix(2, 0)
			}
			if c := d.Claims; c != nil {
				c.Subject = "changed"
				if len(c.Audience) > 0 {
					c.Audience[0] = "changed"
				}
				if c.Extra != nil {
					mutateClaims(c.Extra)
				}
			}
			if d.Headers != nil && d.Headers.Extra != nil {
				mutateClaims(d.Headers.Extra)
			}
		}
		if !reflect.DeepEqual(s, before) {
			t.Fatalf("session %d: changing the clone changed the original:\n%+v\nwas\n%+v", i, s, before)
		}
	}
	if (*Session)(nil).Clone() != nil {
		t.Error("a nil session's clone is not nil")
	}
}

// mutateClaims changes every value reachable in m, and m itself.
func mutateClaims(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			mutateClaims(x)
		case []any:
			for i := range x {
				if inner, ok := x[i].(map[string]any); ok {
					mutateClaims(inner)
				} else {
					x[i] = "changed"
				}
			}
		case []string:
			for i := range x {
				x[i] = "changed"
			}
		case claimNote:
			if len(x.Tags) > 0 {
				x.Tags[0] = "changed"
			}
		}
		m[k+"-added"] = true
	}
}

// TestSessionCloneKnowsEveryField: the fields of the session's structs
// that hold references are the ones Clone copies; a fosite upgrade that
// adds one fails here until Clone copies it too.
func TestSessionCloneKnowsEveryField(t *testing.T) {
	copied := map[string]bool{
		"Session.DefaultSession": true, "Session.GrantResources": true,
		"DefaultSession.Claims": true, "DefaultSession.Headers": true, "DefaultSession.ExpiresAt": true,
		"IDTokenClaims.Audience": true, "IDTokenClaims.AuthenticationMethodsReferences": true, "IDTokenClaims.Extra": true,
		"Headers.Extra": true,
	}
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for f := range typ.Fields() {
			name := typ.Name() + "." + f.Name
			switch k := f.Type.Kind(); {
			case k == reflect.Struct && f.Type != reflect.TypeFor[time.Time](): // time.Time's location is shared by design
				walk(f.Type)
			case k == reflect.Map || k == reflect.Slice || k == reflect.Pointer || k == reflect.Interface ||
				k == reflect.Chan || k == reflect.Func:
				if !copied[name] {
					t.Errorf("%s (%s) holds a reference that Clone does not copy", name, f.Type)
				}
			}
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Session](), reflect.TypeFor[openid.DefaultSession](),
		reflect.TypeFor[jwt.IDTokenClaims](), reflect.TypeFor[jwt.Headers]()} {
		walk(typ)
	}
}

// BenchmarkSessionClone: cloning a sign-in's session, as every
// refresh-token rotation and code redemption does.
func BenchmarkSessionClone(b *testing.B) {
	sess := NewSession("")
	if _, err := parseStored([]byte(storedSamples[1]), sess); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = sess.Clone()
	}
}
