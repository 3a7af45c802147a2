// Package authz is Keyward's OAuth2 / OpenID Connect provider: the public
// endpoints of CONTRACT.md built on github.com/ory/fosite, which no other
// package imports.
//
// Provider composes fosite from an explicit handler list and mounts one
// route table; small handler types hold only what their endpoints use:
// browserFlow (authorization endpoint, login, consent, logout pages),
// tokenEndpoint, introspector, userInfo, apiKeyEndpoint and discovery, on
// top of clientAuth (client authentication) and accessTokens (the one
// access-token check). The domain it serves lives beside it without
// fosite: clients in authz/clients, people and their sessions in
// authz/accounts. authz declares the narrow Store it needs (store.Store
// satisfies it).
//
// Config.Observer is told what the endpoints did (tokens issued and
// refused, introspections, rate-limit rejections, sign-ins, cache
// lookups), with label values from fixed sets, for metrics; authz imports
// no metrics library. Error answers leave their OAuth error code under
// LogErrorKey for the access log.
//
// Lifecycle: New validates and reads nothing (the JWT revocation list
// loads on first use); Run keeps caches fresh and prunes; Close
// unsubscribes. A store failure is answered 503 with Retry-After, never as
// an invalid client, token or password.
//
// Resource servers that only validate tokens use authz/verify, which
// imports nothing from this repository.
package authz
