package authz

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"
)

// requestObjectType is the explicit JWT type of a request object (RFC
// 9101 §10.8); a client assertion carrying it is refused, so one JWT
// cannot serve as the other.
const requestObjectType = "oauth-authz-req+jwt"

// maxRequestObjectLifetime bounds how far ahead a request object's exp
// may lie: the object travels through the browser, where it could be
// captured and sent again.
const maxRequestObjectLifetime = time.Hour

// jwtOnlyClaims are the claims of a request object that are not
// authorization request parameters.
var jwtOnlyClaims = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

// requestObjects verifies signed request objects passed by value in the
// request parameter (RFC 9101 §5.1), at the authorization endpoint and at
// the PAR endpoint (RFC 9126 §3). A request_uri is only ever one the PAR
// endpoint issued: remote request objects (RFC 9101 §5.2) are not fetched
// (request_uri_parameter_supported is false).
type requestObjects struct {
	issuer string
	store  *fositeStore
	keys   *clientKeys
	now    func() time.Time
}

// expand returns the authorization request that form's request object
// carries (RFC 9101 §6.3): only the parameters inside the object, plus the
// client_id sent beside it, which must be the object's (and its iss). The
// object must be signed (one of clients.SigningAlgs; none is refused) by a
// key the client registered, name the issuer in aud, and carry an exp no
// more than maxRequestObjectLifetime ahead. clientID is the client the
// request names outside the object. Failures are
// invalid_request_object (invalid_request without a client_id); a store
// failure stays one.
func (o *requestObjects) expand(ctx context.Context, clientID string, form url.Values) (url.Values, error) {
	bad := func(hint string) error { return fosite.ErrInvalidRequestObject.WithHint(hint) }
	if clientID == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("A request object needs the client_id beside it (RFC 9101 §5).")
	}
	if form.Has("request_uri") {
		return nil, fosite.ErrInvalidRequest.WithHint("Send either request or request_uri, not both (RFC 9101 §5).")
	}
	raw := form.Get("request")
	if strings.Count(raw, ".") == 4 {
		return nil, bad("Encrypted request objects are not supported; sign it (JWS) instead.")
	}
	tok, err := josejwt.ParseSigned(raw, signingAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, bad("The request object must be a compact JWS signed with one of " + algList() + " (unsigned and HMAC objects are refused).")
	}
	client, err := o.store.GetClient(ctx, clientID)
	if err != nil {
		if storeFailure(err) {
			return nil, err
		}
		return nil, fosite.ErrInvalidClient.WithHint("The client is unknown or disabled.")
	}
	h := tok.Headers[0]
	if isFAPI2(client) && !fapiAlg(h.Algorithm) {
		return nil, bad("This client is held to FAPI 2.0: sign request objects with ES256 or PS256 (FAPI 2.0 §5.4.1).")
	}
	keys, err := o.keys.candidates(ctx, client.(*fositeClient).c, h.Algorithm, h.KeyID)
	if err != nil {
		var nk *errNoKeys
		if errors.As(err, &nk) {
			return nil, bad(nk.reason)
		}
		return nil, err
	}
	var (
		claims   map[string]any
		std      josejwt.Claims
		verified bool
	)
	for _, k := range keys {
		if tok.Claims(k.Key, &claims, &std) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, bad("The request object's signature does not verify with the client's registered keys.")
	}
	now := o.now()
	inner, _ := claims["client_id"].(string)
	switch {
	case std.Issuer != clientID:
		return nil, bad("The request object's iss must be the client_id.")
	case claims["client_id"] != nil && inner != clientID:
		return nil, bad("The client_id inside the request object differs from the one beside it (RFC 9101 §5).")
	case !slices.Contains(std.Audience, o.issuer):
		return nil, bad("The request object's aud must be the issuer identifier " + o.issuer + ".")
	case std.Expiry == nil:
		return nil, bad("The request object has no exp.")
	case !now.Before(std.Expiry.Time().Add(assertionLeeway)):
		return nil, bad("The request object has expired; make a new one.")
	case std.Expiry.Time().After(now.Add(maxRequestObjectLifetime + assertionLeeway)):
		return nil, bad("The request object's exp is more than an hour ahead.")
	case std.NotBefore != nil && std.NotBefore.Time().After(now.Add(assertionLeeway)):
		return nil, bad("The request object is not valid yet (nbf).")
	case claims["request"] != nil || claims["request_uri"] != nil:
		return nil, bad("A request object must not contain request or request_uri (RFC 9101 §4).")
	}
	out := url.Values{}
	for k, v := range claims {
		if slices.Contains(jwtOnlyClaims, k) {
			continue
		}
		vals, ok := paramValues(v)
		if !ok {
			return nil, bad("The request object's claim " + strconv.Quote(k) + " is not a parameter value.")
		}
		out[k] = vals
	}
	out.Set("client_id", clientID)
	return out, nil
}

// paramValues turns a request object claim into authorization request
// parameter values: a string as is, a number or boolean as its JSON text,
// an array of strings as repeated values (resource, RFC 8707), an object
// (claims, authorization_details) as its JSON.
func paramValues(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case float64:
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}, true
	case bool:
		return []string{strconv.FormatBool(v)}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				b, err := json.Marshal(v)
				return []string{string(b)}, err == nil
			}
			out = append(out, s)
		}
		return out, true
	case map[string]any:
		b, err := json.Marshal(v)
		return []string{string(b)}, err == nil
	}
	return nil, false
}

// errRequestURINotSupported answers a request_uri this server did not
// issue (RFC 9101 §5.2, request_uri_parameter_supported false).
var errRequestURINotSupported = fosite.ErrRequestURINotSupported.WithHint(
	"Only request_uri values from this server's pushed authorization request endpoint are accepted; send a request object by value (request) or push it (RFC 9126).")
