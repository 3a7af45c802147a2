package authz

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// storedSamples are stored requests as encode writes them: a client
// credentials grant (opaque), a sign-in with ID-token claims, a DPoP-bound
// grant with resources, and a token exchanged for an API key.
var storedSamples = []string{
	`{"id":"80fbe5af-4274-477e-8815-7b263b2907a4","requested_at":"2026-12-06T00:10:21Z","client_id":"01a248af-f9a0-7228-8c93-cc9fef249328","requested_scope":["read"],"granted_scope":["read"],"requested_audience":[],"granted_audience":[],"form":{},"session":{"oidc":{"id_token_claims":{"jti":"","iss":"","sub":"01a248af-f9a0-7228-8c93-cc9fef249328","aud":null,"nonce":"","exp":"0001-01-01T00:00:00Z","iat":"0001-01-01T00:00:00Z","rat":"0001-01-01T00:00:00Z","auth_time":"0001-01-01T00:00:00Z","at_hash":"","acr":"","amr":null,"c_hash":"","ext":{}},"headers":{"extra":{}},"expires_at":{"access_token":"2026-12-07T00:10:21Z"},"username":"","subject":"01a248af-f9a0-7228-8c93-cc9fef249328"},"access_format":"opaque"}}`,
	`{"id":"r2","requested_at":"2026-12-06T00:10:21.123456Z","client_id":"app","requested_scope":["openid","profile","offline_access"],"granted_scope":["openid","profile","offline_access"],"requested_audience":["https://api.example"],"granted_audience":["https://api.example"],"form":{"redirect_uri":["https://app.example/cb"],"response_type":["code"],"state":["xyz"]},"session":{"oidc":{"id_token_claims":{"jti":"j1","iss":"https://id.example","sub":"user-1","aud":["app"],"nonce":"n-0S6","exp":"2026-12-06T01:10:21Z","iat":"2026-12-06T00:10:21Z","rat":"2026-12-06T00:10:00Z","auth_time":"2026-12-06T00:09:59Z","at_hash":"","acr":"urn:keyward:acr:mfa","amr":["pwd","otp","mfa"],"c_hash":"","ext":{"email":"carol@example.com","email_verified":true,"groups":["a","b"],"address":{"country":"NZ"}}},"headers":{"extra":{"kid":"k1"}},"expires_at":{"access_token":"2026-12-06T01:10:21Z","refresh_token":"2027-01-05T00:10:21Z","authorize_code":"2026-12-06T00:20:21Z"},"username":"carol","subject":"user-1"},"access_jti":"at-1","access_format":"jwt","user_id":"user-1","grant_resources":["https://api.example"],"dpop_jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`,
	`{"id":"r3","requested_at":"2026-12-06T00:10:21Z","client_id":"svc","requested_scope":null,"granted_scope":["read"],"requested_audience":null,"granted_audience":null,"form":{"grant_type":["urn:ietf:params:oauth:grant-type:token-exchange"]},"session":{"oidc":{"id_token_claims":null,"headers":null,"expires_at":{"access_token":"2026-12-06T00:20:21Z"},"username":"","subject":"apikey:k1"},"access_format":"opaque","kind":"apikey","api_key":{"KeyID":"k1","Secret":1733443821000000}}}`,
	`{"id":"r4","requested_at":"2026-12-06T00:10:21Z","client_id":"svc","granted_scope":[],"form":null,"session":null}`,
}

// TestParseStoredAsTwoPasses: the one-pass decoding of a stored request
// reads what decoding the request with its session as raw JSON, then the
// session on its own, read.
func TestParseStoredAsTwoPasses(t *testing.T) {
	for i, data := range storedSamples {
		var want storedRequest
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		wantSess := NewSession("")
		if err := json.Unmarshal(want.Session, wantSess); err != nil {
			t.Fatalf("sample %d: session: %v", i, err)
		}
		gotSess := NewSession("")
		got, err := parseStored([]byte(data), gotSess)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if got.ID != want.ID || !got.RequestedAt.Equal(want.RequestedAt) || got.ClientID != want.ClientID ||
			!reflect.DeepEqual(got.RequestedScope, want.RequestedScope) || !reflect.DeepEqual(got.GrantedScope, want.GrantedScope) ||
			!reflect.DeepEqual(got.RequestedAudience, want.RequestedAudience) ||
			!reflect.DeepEqual(got.GrantedAudience, want.GrantedAudience) || !reflect.DeepEqual(got.Form, want.Form) {
			t.Errorf("sample %d: request %+v, want %+v", i, got, want)
		}
		if !reflect.DeepEqual(gotSess, wantSess) {
			t.Errorf("sample %d: session\n%+v\nwant\n%+v", i, gotSess, wantSess)
		}
	}
	for _, bad := range []string{`{"id":"x","session":{"oidc":5}}`, `{"id":"x","session":[1]}`, `{"id":"x","session":{`, `[]`} {
		if _, err := parseStored([]byte(bad), NewSession("")); err == nil {
			t.Errorf("parseStored(%s) accepted it", bad)
		}
	}
}

// BenchmarkParseStored: decoding a client-credentials record, what a cold
// opaque introspection decodes.
func BenchmarkParseStored(b *testing.B) {
	data := []byte(storedSamples[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseStored(data, NewSession("")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStoredTwoPasses is what BenchmarkParseStored measured
// before the one pass, for comparison.
func BenchmarkParseStoredTwoPasses(b *testing.B) {
	data := []byte(storedSamples[0])
	b.ReportAllocs()
	for b.Loop() {
		var sr storedRequest
		if err := json.Unmarshal(data, &sr); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(sr.Session, NewSession("")); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseStored: whatever strings a stored request carries (a subject,
// form values, scopes, ID-token claims, as encoding/json writes them),
// the one-pass decoding reads what the two-pass reference reads, and
// introspection's decoding (parseIntrospected) what the one pass reads.
func FuzzParseStored(f *testing.F) {
	f.Add("user-1", "https://app.example/cb", "read write", "carol@example.com", "pwd")
	f.Add("", "", "", "", "")
	f.Add("\u2028\"\\\x00é𝄞", "a=b&c=%20", "\t", "<script>", "\xed\xa0\x80\xff")
	f.Fuzz(func(t *testing.T, subject, formValue, scope, claim, amr string) {
		sess := NewSession(subject)
		sess.DefaultSession.Claims.Extra["email"] = claim
		sess.DefaultSession.Claims.Extra["nested"] = map[string]any{"v": []any{claim, 1.5, true, nil}}
		sess.DefaultSession.Claims.AuthenticationMethodsReferences = []string{amr}
		sess.DefaultSession.Username, sess.UserID, sess.DPoPJKT = claim, subject, amr
		at := time.Unix(int64(len(subject))*1e8, int64(len(claim))).UTC()
		sess.SetExpiresAt(fosite.AccessToken, at)
		sess.SetExpiresAt(fosite.RefreshToken, at.Add(time.Duration(len(amr))*time.Hour))
		raw, err := json.Marshal(sess)
		if err != nil {
			t.Skip(err)
		}
		data, err := json.Marshal(storedRequest{ID: subject, RequestedAt: at, ClientID: claim,
			RequestedScope: []string{scope}, GrantedScope: []string{scope, amr}, GrantedAudience: []string{formValue},
			Form: map[string][]string{formValue: {formValue, claim}}, Session: raw})
		if err != nil {
			t.Skip(err)
		}
		var want storedRequest
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		wantSess := NewSession("")
		if err := json.Unmarshal(want.Session, wantSess); err != nil {
			t.Fatal(err)
		}
		gotSess := NewSession("")
		got, err := parseStored(data, gotSess)
		if err != nil {
			t.Fatalf("parseStored(%s): %v", data, err)
		}
		if got.ID != want.ID || got.ClientID != want.ClientID || !reflect.DeepEqual(got.RequestedScope, want.RequestedScope) ||
			!reflect.DeepEqual(got.GrantedScope, want.GrantedScope) || !reflect.DeepEqual(got.Form, want.Form) {
			t.Errorf("request %+v, want %+v", got, want)
		}
		if !reflect.DeepEqual(gotSess, wantSess) {
			t.Errorf("session\n%+v\nwant\n%+v", gotSess, wantSess)
		}
		if msg := introspectedAsStored(data, got, gotSess); msg != "" {
			t.Errorf("parseIntrospected(%s): %s", data, msg)
		}
	})
}

// TestEncodeOnePass: encode writes the session in the same pass as the
// request, byte for byte what marshalling the session apart and the
// request with it as raw JSON wrote.
func TestEncodeOnePass(t *testing.T) {
	for i, data := range storedSamples {
		sr, err := parseStored([]byte(data), NewSession(""))
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		r := storedSampleRequest(sr)
		got, err := (&fositeStore{}).encode(r)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		// encode before the one pass: its form (what encode keeps of it)
		// and its session marshalled apart.
		var kept storedRequest
		if err := json.Unmarshal(got, &kept); err != nil {
			t.Fatal(err)
		}
		sess, err := json.Marshal(r.GetSession())
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(storedRequest{ID: r.ID, RequestedAt: r.RequestedAt, ClientID: r.Client.GetID(),
			RequestedScope: r.RequestedScope, GrantedScope: r.GrantedScope, RequestedAudience: r.RequestedAudience,
			GrantedAudience: r.GrantedAudience, Form: kept.Form, Session: sess})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("sample %d:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// BenchmarkEncodeStored: encoding a sign-in's request, what every stored
// code, access and refresh token of a user's grant costs.
func BenchmarkEncodeStored(b *testing.B) {
	sr, err := parseStored([]byte(storedSamples[1]), NewSession(""))
	if err != nil {
		b.Fatal(err)
	}
	r, s := storedSampleRequest(sr), &fositeStore{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.encode(r); err != nil {
			b.Fatal(err)
		}
	}
}

// storedSampleRequest is the fosite request a stored sample was made from.
func storedSampleRequest(sr *storedRequestOf[*Session]) *fosite.Request {
	r := &fosite.Request{ID: sr.ID, RequestedAt: sr.RequestedAt, Client: &fosite.DefaultClient{ID: sr.ClientID},
		RequestedScope: sr.RequestedScope, GrantedScope: sr.GrantedScope, RequestedAudience: sr.RequestedAudience,
		GrantedAudience: sr.GrantedAudience, Form: sr.Form}
	if sr.Session != nil {
		r.Session = sr.Session
	}
	return r
}
