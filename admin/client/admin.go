package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// BasePath is where the admin API lives on the admin listener.
const BasePath = "/admin/v1"

// New returns a client of the admin API on the admin listener at
// adminURL ("http://127.0.0.1:8081"; a URL already ending in /admin/v1 is
// taken as it is; plain http only to a loopback address), sending token, an access token with the keyward:admin
// scope, as a bearer token on every request. It does no I/O.
func New(adminURL, token string, opts ...ClientOption) (*ClientWithResponses, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("admin URL %q: want http(s)://host[:port]", adminURL)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("admin URL %q: plain http is only for a loopback address (the admin token would cross the network unencrypted); use https", adminURL)
	}
	if token == "" {
		return nil, errors.New("no admin token")
	}
	base := strings.TrimSuffix(u.String(), "/")
	if !strings.HasSuffix(base, BasePath) {
		base += BasePath
	}
	return NewClientWithResponses(base, append([]ClientOption{WithRequestEditorFn(BearerToken(token))}, opts...)...)
}

// loopbackHost reports whether host names this machine: localhost or a
// loopback IP address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// BearerToken is a request editor that authenticates each request with
// token (RFC 6750 §2.1).
func BearerToken(token string) RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// Error is an answer other than 2xx: its status and the problem document
// it carried (Problem.Errors holds each field's problem of a 422).
type Error struct {
	Status  int
	Problem Problem
}

func (e *Error) Error() string {
	msg := e.Problem.Title
	if e.Problem.Detail != nil && *e.Problem.Detail != "" {
		msg = *e.Problem.Detail
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if fe := e.Fields(); len(fe) > 0 {
		parts := make([]string, len(fe))
		for i, f := range fe {
			parts[i] = f.Field + ": " + f.Message
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return fmt.Sprintf("admin API: %d %s", e.Status, msg)
}

// Fields returns the {field, message} problems of a validation error
// (422), none for other errors.
func (e *Error) Fields() []FieldError {
	if e.Problem.Errors == nil {
		return nil
	}
	return *e.Problem.Errors
}

// Check returns nil for a 2xx answer and an *Error for any other, read
// from its problem JSON (or, when the body is not problem JSON, from the
// status alone). Pass a generated response's HTTPResponse and Body.
func Check(resp *http.Response, body []byte) error {
	if resp == nil {
		return errors.New("admin API: no response")
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(body, &e.Problem) != nil || e.Problem.Status == 0 {
		e.Problem = Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	}
	return e
}

// maxBody bounds what Decode reads of an answer.
const maxBody = 16 << 20

// Decode reads the answer of one of the Client's calls (resp, err as the
// call returned them) and closes its body: for a 2xx answer it decodes
// the JSON body into v (unless v is nil or the body empty), else it
// returns the *Error that Check makes. A transport error comes back as
// it is.
func Decode(resp *http.Response, err error, v any) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("admin API: read answer: %w", err)
	}
	if err := Check(resp, body); err != nil {
		return err
	}
	if v == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("admin API: %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}
