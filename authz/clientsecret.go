package authz

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ory/fosite"
)

// secretClient is fosite's DefaultClientAuthenticationStrategy for a
// request without a client assertion: a confidential client by its secret
// (client_secret_basic, RFC 6749 §2.3.1, or client_secret_post), a public
// client by its id. Its checks and errors are fosite's, in fosite's
// order; what differs is that the Authorization header is decoded once
// per request (rawBasic) where fosite decodes it twice more.
func secretClient(ctx context.Context, f *fosite.Fosite, r *http.Request, form url.Values) (fosite.Client, error) {
	id, secret, basic := rawBasic(r)
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" {
			return nil, fosite.ErrInvalidRequest.WithHint("Client credentials missing or malformed in both HTTP Authorization header and HTTP POST body.")
		}
	} else {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The client id in the HTTP authorization header could not be decoded from 'application/x-www-form-urlencoded'.").WithWrap(err).WithDebug(err.Error())
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The client secret in the HTTP authorization header could not be decoded from 'application/x-www-form-urlencoded'.").WithWrap(err).WithDebug(err.Error())
		}
	}
	client, err := f.Store.GetClient(ctx, id)
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithWrap(err).WithDebug(err.Error())
	}
	if oidc, ok := client.(fosite.OpenIDConnectClient); ok {
		method := oidc.GetTokenEndpointAuthMethod()
		switch {
		case form.Get("client_id") != "" && form.Get("client_secret") != "" && method != "client_secret_post":
			return nil, fosite.ErrInvalidClient.WithHintf("The OAuth 2.0 Client supports client authentication method '%s', but method 'client_secret_post' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_post'.", method)
		case basic && secret != "" && method != "client_secret_basic":
			return nil, fosite.ErrInvalidClient.WithHintf("The OAuth 2.0 Client supports client authentication method '%s', but method 'client_secret_basic' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_basic'.", method)
		case method != "none" && client.IsPublic():
			return nil, fosite.ErrInvalidClient.WithHintf("The OAuth 2.0 Client supports client authentication method '%s', but method 'none' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'none'.", method)
		}
	}
	if client.IsPublic() {
		return client, nil
	}
	if err := checkClientSecret(ctx, f, client, []byte(secret)); err != nil {
		return nil, fosite.ErrInvalidClient.WithWrap(err).WithDebug(err.Error())
	}
	return client, nil
}

// checkClientSecret is fosite's: the secret against the client's digest,
// then against its rotated ones (fosite.ClientWithSecretRotation). The
// comparison is the hasher's (clients.Hasher: constant time).
func checkClientSecret(ctx context.Context, f *fosite.Fosite, client fosite.Client, secret []byte) error {
	hasher := f.Config.GetSecretsHasher(ctx)
	err := hasher.Compare(ctx, client.GetHashedSecret(), secret)
	if err == nil {
		return nil
	}
	if rc, ok := client.(fosite.ClientWithSecretRotation); ok {
		for _, hash := range rc.GetRotatedHashes() {
			if err = hasher.Compare(ctx, hash, secret); err == nil {
				return nil
			}
		}
	}
	return err
}
