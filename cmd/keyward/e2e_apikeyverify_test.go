package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestE2EAPIKeyVerifyBodies: POST /v1/apikeys/verify answers 200 for every
// well-formed call (a JSON object; unknown members are ignored for forward
// compatibility; an empty, missing or garbled key is NOT_FOUND), and a
// clean JSON error for a body that is not a JSON object (400) or not JSON
// by its Content-Type (415).
func TestE2EAPIKeyVerifyBodies(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var key struct {
		Key string `json:"key"`
	}
	e.runJSON(&key, "", "apikeys", "create", "--name", "k", "--scope", "read")
	rs := e.newClient("--name", "rs", "--grant-type", "client_credentials", "--scope", "read")
	s := e.serve()
	verify := func(contentType, body string) reply {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/v1/apikeys/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth(rs.ClientID, rs.ClientSecret)
		return do(t, req)
	}
	const js = "application/json"

	for name, tc := range map[string]struct {
		body  string
		valid bool
	}{
		"unknown members":        {`{"key":"` + key.Key + `","required_scope":"read","future":1,"nested":{"a":[1,2]}}`, true},
		"unknown members, scope": {`{"future":null,"key":"` + key.Key + `"}`, true},
		"empty key":              {`{"key":""}`, false},
		"no key":                 {`{"required_scope":"read"}`, false},
		"invalid UTF-8 key":      {"{\"key\":\"kw_\xff\xfe\"}", false},
		"garbage key":            {`{"key":"not a key"}`, false},
	} {
		r := verify(js, tc.body)
		if r.status != http.StatusOK || r.json["valid"] != tc.valid {
			t.Errorf("%s: %d %s; want 200 valid=%v", name, r.status, r.raw, tc.valid)
			continue
		}
		if !tc.valid && (r.str("code") != "NOT_FOUND" || len(r.json) != 2) {
			t.Errorf("%s: %s; want exactly {\"valid\":false,\"code\":\"NOT_FOUND\"}", name, r.raw)
		}
	}

	for name, tc := range map[string]struct {
		contentType, body string
		status            int
	}{
		"form body":        {js, "key=" + key.Key, 400},
		"array":            {js, `["` + key.Key + `"]`, 400},
		"null":             {js, `null`, 400},
		"string":           {js, `"` + key.Key + `"`, 400},
		"key not a string": {js, `{"key":5}`, 400},
		"trailing garbage": {js, `{"key":"` + key.Key + `"} x`, 400},
		"empty body":       {js, ``, 400},
		"text/plain":       {"text/plain", `{"key":"` + key.Key + `"}`, 415},
	} {
		r := verify(tc.contentType, tc.body)
		if r.status != tc.status || !containsJSON(r.header.Get("Content-Type")) || r.str("error") != "invalid_request" {
			t.Errorf("%s: %d %q %s; want %d with a JSON invalid_request", name, r.status, r.header.Get("Content-Type"), r.raw, tc.status)
		}
	}

	// The client may authenticate in the body, as client_secret_post does
	// at introspection; a form with the same fields works too.
	post := func(contentType, body string) reply {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/v1/apikeys/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return do(t, req)
	}
	creds := `"client_id":"` + rs.ClientID + `","client_secret":"` + rs.ClientSecret + `"`
	if r := post(js, `{"key":"`+key.Key+`",`+creds+`}`); r.status != 200 || r.json["valid"] != true {
		t.Errorf("client credentials in the JSON body: %d %s", r.status, r.raw)
	}
	form := url.Values{"key": {key.Key}, "required_scope": {"read"}, "client_id": {rs.ClientID}, "client_secret": {rs.ClientSecret}}
	if r := post("application/x-www-form-urlencoded", form.Encode()); r.status != 200 || r.json["valid"] != true {
		t.Errorf("a form with client credentials: %d %s", r.status, r.raw)
	}
	if r := post(js, `{"key":"`+key.Key+`","client_id":"`+rs.ClientID+`","client_secret":"wrong"}`); r.status != 401 || r.str("error") != "invalid_client" {
		t.Errorf("a wrong secret in the body: %d %s", r.status, r.raw)
	}
	if r := post(js, `{"key":"`+key.Key+`"}`); r.status != 401 {
		t.Errorf("no client authentication: %d %s", r.status, r.raw)
	}
}
