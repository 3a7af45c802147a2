package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// Pushed authorization requests (RFC 9126) are kept as token records:
//
//   - store.KindPAR, written by the PAR endpoint, keyed by a digest of the
//     request_uri (never the request_uri itself) and valid for the
//     request_uri's expires_in;
//   - store.KindPARClaim, written when a browser first brings the
//     request_uri to the authorization endpoint: the pushed record is
//     deactivated (so no other browser can take it up) and the claim,
//     bound to that browser, lets the same person sign in and consent for
//     up to parFlowTTL; it is deleted when the authorization response is
//     sent (consumePAR), which makes the request_uri single use
//     (RFC 9126 §4: one-time use, with reloads of the same user agent
//     allowed).
var _ fosite.PARStorage = (*fositeStore)(nil)

// parFlowTTL is how long a taken-up pushed request lasts while its
// person signs in and consents.
const parFlowTTL = 30 * time.Minute

// parPrefix is the scheme of every request_uri the PAR endpoint issues
// (RFC 9126 §2.2).
const parPrefix = "urn:ietf:params:oauth:request_uri:"

// isPARRequestURI reports whether s names a pushed request of this server.
func isPARRequestURI(s string) bool { return strings.HasPrefix(s, parPrefix) }

// parKey is the record key of a request_uri.
func parKey(requestURI string) string {
	sum := sha256.Sum256([]byte(requestURI))
	return hex.EncodeToString(sum[:])
}

// pushedRequest is the stored form of a pushed authorization request: the
// fosite request (storedRequest, without credentials) and what fosite's
// authorization-request fields hold beside it.
type pushedRequest struct {
	Request       json.RawMessage `json:"request"`
	RedirectURI   string          `json:"redirect_uri"`
	ResponseTypes []string        `json:"response_types"`
	State         string          `json:"state"`
	ResponseMode  string          `json:"response_mode"`
}

// parClaim is the stored form of a pushed request taken up by a browser.
type parClaim struct {
	// Browser is an HMAC of the browser's binding cookie and the
	// request_uri's key (parBinding).
	Browser string        `json:"browser"`
	Pushed  pushedRequest `json:"pushed"`
}

type parBrowserKey struct{}

// withPARBrowser records in ctx the binding of the browser whose request
// the authorization endpoint is handling (see browserFlow.parBinding).
func withPARBrowser(ctx context.Context, binding func(key string) string) context.Context {
	return context.WithValue(ctx, parBrowserKey{}, binding)
}

// parError is why a request_uri cannot be used; the authorization
// endpoint shows Hint on its error page as invalid_request_uri.
type parError struct{ Hint string }

func (e *parError) Error() string { return e.Hint }

var (
	errPARUnknown = &parError{"The request_uri is unknown: push the authorization request to the pushed authorization request endpoint and use the request_uri it returns."}
	errPARUsed    = &parError{"The request_uri has already been used; push the authorization request again (RFC 9126 §4)."}
	errPARExpired = &parError{"The request_uri has expired; push the authorization request again (RFC 9126 §2.2)."}
)

// CreatePARSession implements fosite.PARStorage: it stores the validated
// pushed request r under requestURI, valid for lifespan.
func (s *fositeStore) CreatePARSession(ctx context.Context, requestURI string, r fosite.AuthorizeRequester) error {
	data, err := s.encode(r)
	if err != nil {
		return err
	}
	p := pushedRequest{Request: data, ResponseTypes: r.GetResponseTypes(), State: r.GetState(),
		ResponseMode: string(r.GetResponseMode())}
	if u := r.GetRedirectURI(); u != nil {
		p.RedirectURI = u.String()
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := s.now()
	return fositeErr(s.tokens.CreateToken(ctx, &store.TokenRecord{
		Kind: store.KindPAR, Signature: parKey(requestURI), RequestID: r.GetID(), ClientID: r.GetClient().GetID(),
		Active: true, Data: raw, RequestedAt: store.Truncate(now), ExpiresAt: store.Truncate(now.Add(s.parTTL)),
	}))
}

// GetPARSession implements fosite.PARStorage for the authorization
// endpoint. The first time a browser brings requestURI, within its
// expires_in, the pushed request is taken up for that browser (see the
// records above); later arrivals from the same browser (the return from
// the login page, the consent form) find the claim. Any other answer is a
// *parError: unknown, already used (by this browser's finished flow or by
// another browser) or expired. A store failure stays one.
func (s *fositeStore) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	binding, _ := ctx.Value(parBrowserKey{}).(func(string) string)
	if binding == nil {
		return nil, errPARUnknown
	}
	key := parKey(requestURI)
	browser := binding(key)
	now := s.now()
	if p, err := s.claimed(ctx, key, browser); err == nil || !errors.Is(err, store.ErrNotFound) {
		if err != nil {
			return nil, err
		}
		return s.decodePushed(ctx, p)
	}
	rec, err := s.tokens.GetToken(ctx, store.KindPAR, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errPARUnknown
	case err != nil:
		return nil, fositeErr(err)
	case !rec.Active:
		return nil, errPARUsed
	case !now.Before(rec.ExpiresAt):
		return nil, errPARExpired
	}
	var p pushedRequest
	if err := json.Unmarshal(rec.Data, &p); err != nil {
		return nil, fmt.Errorf("authz: stored pushed request: %w", err)
	}
	first, err := s.tokens.DeactivateToken(ctx, store.KindPAR, key, now)
	if err != nil {
		return nil, fositeErr(err)
	}
	if !first {
		// Another request took it up a moment ago.
		return nil, errPARUsed
	}
	raw, err := json.Marshal(parClaim{Browser: browser, Pushed: p})
	if err != nil {
		return nil, err
	}
	if err := s.tokens.CreateToken(ctx, &store.TokenRecord{
		Kind: store.KindPARClaim, Signature: key, RequestID: rec.RequestID, ClientID: rec.ClientID,
		Active: true, Data: raw, RequestedAt: rec.RequestedAt, ExpiresAt: store.Truncate(now.Add(parFlowTTL)),
	}); err != nil {
		return nil, fositeErr(err)
	}
	return s.decodePushed(ctx, p)
}

// claimed returns the pushed request that browser took up under key,
// store.ErrNotFound when none was taken up, errPARUsed when another
// browser took it, errPARExpired when the flow outlived parFlowTTL.
func (s *fositeStore) claimed(ctx context.Context, key, browser string) (pushedRequest, error) {
	rec, err := s.tokens.GetToken(ctx, store.KindPARClaim, key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return pushedRequest{}, err
		}
		return pushedRequest{}, fositeErr(err)
	}
	var cl parClaim
	if err := json.Unmarshal(rec.Data, &cl); err != nil {
		return pushedRequest{}, fmt.Errorf("authz: stored pushed request: %w", err)
	}
	switch {
	case !equalMAC(cl.Browser, browser):
		return pushedRequest{}, errPARUsed
	case !s.now().Before(rec.ExpiresAt):
		return pushedRequest{}, errPARExpired
	}
	return cl.Pushed, nil
}

// decodePushed rebuilds the authorization request fosite validated when it
// was pushed.
func (s *fositeStore) decodePushed(ctx context.Context, p pushedRequest) (fosite.AuthorizeRequester, error) {
	req, err := s.decode(ctx, p.Request, nil)
	if err != nil {
		return nil, fositeErr(err)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.Request = *req
	if ar.RedirectURI, err = url.Parse(p.RedirectURI); err != nil {
		return nil, fmt.Errorf("authz: stored pushed request: %w", err)
	}
	ar.ResponseTypes = p.ResponseTypes
	ar.State = p.State
	ar.ResponseMode = fosite.ResponseModeType(p.ResponseMode)
	ar.DefaultResponseMode = fosite.ResponseModeQuery
	return ar, nil
}

// DeletePARSession implements fosite.PARStorage. fosite calls it as soon
// as the authorization endpoint has read the pushed request, before the
// person has signed in; the request_uri is used up later instead, when the
// authorization response is sent (consumePAR).
func (s *fositeStore) DeletePARSession(context.Context, string) error { return nil }

// consumePAR uses up the pushed request behind requestURI: of the flows
// that took it up, only the first to finish gets nil, the others
// errPARUsed.
func (s *fositeStore) consumePAR(ctx context.Context, requestURI string) error {
	err := s.tokens.DeleteToken(ctx, store.KindPARClaim, parKey(requestURI))
	if errors.Is(err, store.ErrNotFound) {
		return errPARUsed
	}
	return fositeErr(err)
}
