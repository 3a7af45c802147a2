// Package authz is Keyward's OAuth2 / OpenID Connect provider: the public
// endpoints of CONTRACT.md built on github.com/ory/fosite, which no other
// package imports, plus the client and user services that the CLI and the
// admin API share.
//
// Resource servers that only validate tokens use authz/verify, which
// imports nothing from this repository.
package authz
