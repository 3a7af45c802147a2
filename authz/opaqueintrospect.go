package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/valyala/fastjson"

	"github.com/keyward/keyward/store"
)

// introspectedRequest is what introspection reads of a stored request
// (storedRequestOf as encode writes it): the members of the answer and
// the token's expiry. The rest (the form, the requested scopes, the
// ID-token claims and headers) is stepped over without being built.
type introspectedRequest struct {
	ID              string
	RequestedAt     time.Time
	ClientID        string
	GrantedScope    []string
	GrantedAudience []string
	Session         struct {
		OIDC struct {
			ExpiresAt struct {
				AccessToken  time.Time
				RefreshToken time.Time
			}
			Subject string
		}
		DPoPJKT string
	}
}

// introspectedParsers hold the parsers parseIntrospected reuses: a parser
// keeps its buffers, so a warm one parses a record without allocating.
var introspectedParsers fastjson.ParserPool

// parseIntrospected reads the members introspection needs from a stored
// request. It reads them as encoding/json would into a struct of those
// members (a member absent or null is the zero value; one of another type
// is an error), in one pass that allocates only the strings it returns:
// under a cold tour of opaque tokens, json.Unmarshal's reflection over
// the whole record was a sixth of the server's CPU. (fastjson refuses
// nesting deeper than 300 levels; what Keyward stores nests about six:
// the session's ID-token claims, their extra members and a value.)
func parseIntrospected(data []byte) (*introspectedRequest, error) {
	p := introspectedParsers.Get()
	defer introspectedParsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("authz: stored request: %w", err)
	}
	var d storedFields
	r := &introspectedRequest{}
	req := d.object(v, "request")
	r.ID = d.str(req, "id")
	r.RequestedAt = d.time(req, "requested_at")
	r.ClientID = d.str(req, "client_id")
	r.GrantedScope = d.strs(req, "granted_scope")
	r.GrantedAudience = d.strs(req, "granted_audience")
	sess := d.member(req, "session")
	oidc := d.member(sess, "oidc")
	exp := d.member(oidc, "expires_at")
	r.Session.OIDC.ExpiresAt.AccessToken = d.time(exp, "access_token")
	r.Session.OIDC.ExpiresAt.RefreshToken = d.time(exp, "refresh_token")
	r.Session.OIDC.Subject = d.str(oidc, "subject")
	r.Session.DPoPJKT = d.str(sess, "dpop_jkt")
	if d.err != nil {
		return nil, fmt.Errorf("authz: stored request: %w", d.err)
	}
	return r, nil
}

// storedFields reads typed members out of a parsed stored request; the
// first member of a wrong type is kept in err, and every read after it
// (or of a member of a nil object) gives the zero value.
type storedFields struct{ err error }

// object is v as an object: nil when v is null.
func (d *storedFields) object(v *fastjson.Value, name string) *fastjson.Object {
	if d.err != nil || v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	o, err := v.Object()
	if err != nil {
		d.err = fmt.Errorf("%s: %w", name, err)
	}
	return o
}

// member is o's member key as an object: nil when absent or null.
func (d *storedFields) member(o *fastjson.Object, key string) *fastjson.Object {
	if o == nil {
		return nil
	}
	return d.object(o.Get(key), key)
}

// value is o's member key: nil when absent or null, or after an error.
func (d *storedFields) value(o *fastjson.Object, key string) *fastjson.Value {
	if d.err != nil || o == nil {
		return nil
	}
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	return v
}

// bytes is the string v holds (unescaped, in the parser's buffer).
func (d *storedFields) bytes(v *fastjson.Value, key string) []byte {
	b, err := v.StringBytes()
	if err != nil {
		d.err = fmt.Errorf("%s: %w", key, err)
	}
	return b
}

func (d *storedFields) str(o *fastjson.Object, key string) string {
	if v := d.value(o, key); v != nil {
		return string(d.bytes(v, key))
	}
	return ""
}

// strs is an array of strings (a null element is "", as encoding/json
// reads it into a []string).
func (d *storedFields) strs(o *fastjson.Object, key string) []string {
	v := d.value(o, key)
	if v == nil {
		return nil
	}
	vs, err := v.Array()
	if err != nil {
		d.err = fmt.Errorf("%s: %w", key, err)
		return nil
	}
	out := make([]string, len(vs))
	for i, e := range vs {
		if e.Type() != fastjson.TypeNull {
			out[i] = string(d.bytes(e, key))
		}
	}
	return out
}

// time reads an RFC 3339 time as time.Time's UnmarshalJSON does.
func (d *storedFields) time(o *fastjson.Object, key string) time.Time {
	var t time.Time
	if v := d.value(o, key); v != nil {
		if b := d.bytes(v, key); d.err == nil {
			if err := t.UnmarshalText(b); err != nil {
				d.err = fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return t
}

// opaqueAnswer returns the introspection answer (RFC 7662 §2.2) of an
// active opaque access or refresh token (its prefix tells which): the
// cached one, or one made from the token's record as fosite's
// introspection of it would decide (its signature's record, active;
// unexpired, and the token's HMAC valid; the record's client active)
// without fosite's request, session and client objects, and then cached.
// The answer is appended to dst. An inactive token is ErrInvalidToken; a
// store failure comes back wrapped, never as ErrInvalidToken.
func (a *accessTokens) opaqueAnswer(ctx context.Context, token string, dst []byte) ([]byte, error) {
	if body, ok, err := a.cachedAnswer(ctx, token, dst); ok || err != nil {
		return body, err
	}
	gen := a.generation()
	refresh := strings.HasPrefix(token, prefixRefresh)
	kind, sig := store.KindAccessToken, a.strategy.AccessTokenSignature(ctx, token)
	if refresh {
		kind, sig = store.KindRefreshToken, a.strategy.RefreshTokenSignature(ctx, token)
	}
	// Its callers only read, outside any transaction: the record read may
	// share a query with concurrent ones.
	rec, err := a.records.introspected(ctx, kind, sig)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrInvalidToken
	case err != nil:
		return nil, fmt.Errorf("authz: token record: %w", err)
	case !rec.active:
		// A rotated refresh token: the refresh grant's grace rules answer
		// its client at the token endpoint, never here.
		return nil, ErrInvalidToken
	case rec.err != nil:
		return nil, rec.err
	}
	r := rec.req
	// The expiry and the HMAC, as fosite's HMAC strategy decides them.
	tt, exp := fosite.AccessToken, r.Session.OIDC.ExpiresAt.AccessToken
	if refresh {
		tt, exp = fosite.RefreshToken, r.Session.OIDC.ExpiresAt.RefreshToken
	}
	if a.strategy.validateHMACToken(ctx, tt, exp, r.RequestedAt, token) != nil {
		return nil, ErrInvalidToken
	}
	// The cache keeps the answer until the token expires: an access token
	// without an expiry of its own ends the lifespan after the request
	// (fosite's rule); a refresh token without one, never (the cache's
	// own lifetime bounds it).
	until := exp
	if until.IsZero() && !refresh {
		until = r.RequestedAt.Add(a.strategy.cfg.GetAccessTokenLifespan(ctx))
	}
	if err := a.clientActive(ctx, r.ClientID); err != nil {
		return nil, err
	}
	out := opaqueAnswer{Aud: r.GrantedAudience, ClientID: r.ClientID, Iat: r.RequestedAt.Unix(), Iss: a.issuer,
		Scope: strings.Join(r.GrantedScope, " "), Sub: r.Session.OIDC.Subject, TokenType: "Bearer",
		TokenUse: "access_token"}
	switch {
	case refresh:
		out.TokenType, out.TokenUse = "refresh_token", "refresh_token"
	case r.Session.DPoPJKT != "":
		out.TokenType, out.JKT = "DPoP", r.Session.DPoPJKT // RFC 9449 §6.2
	}
	if !exp.IsZero() {
		out.Exp = exp.Unix()
	}
	body := out.appendJSON(dst)
	if a.opaque != nil { // the cache keeps a copy
		a.opaque.fill(gen, token, r.ID, r.ClientID, until, body)
	}
	return body, nil
}

// cachedAnswer appends the opaque cache's answer for an opaque token to
// dst, if it has one: ErrInvalidToken when the token's client has been
// disabled or deleted since (its cache, invalidated on every instance,
// decides, as on a miss).
func (a *accessTokens) cachedAnswer(ctx context.Context, token string, dst []byte) (body []byte, ok bool, err error) {
	if a.opaque == nil {
		return nil, false, nil
	}
	body, client, ok := a.opaque.get(token, dst)
	if !ok {
		return nil, false, nil
	}
	if err := a.clientActive(ctx, client); err != nil {
		return nil, true, err
	}
	return body, true, nil
}

// generation is the opaque cache's generation, read before a record is
// (fill drops an answer read across an invalidation).
func (a *accessTokens) generation() uint64 {
	if a.opaque == nil {
		return 0
	}
	return a.opaque.generation()
}

// answeredAccess is what check reads back of an opaque access token's
// introspection answer.
type answeredAccess struct {
	Aud      []string `json:"aud"`
	ClientID string   `json:"client_id"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
	Scope string `json:"scope"`
	Sub   string `json:"sub"`
}

// opaqueInfo is check for an opaque access token: its answer, cached or
// read, as an AccessInfo.
func (a *accessTokens) opaqueInfo(ctx context.Context, token string) (*AccessInfo, error) {
	body, err := a.opaqueAnswer(ctx, token, nil)
	if err != nil {
		return nil, err
	}
	var ans answeredAccess
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("authz: introspection answer: %w", err)
	}
	return &AccessInfo{Subject: ans.Sub, ClientID: ans.ClientID, Scopes: strings.Fields(ans.Scope),
		Audience: ans.Aud, DPoPJKT: ans.Cnf.JKT}, nil
}
