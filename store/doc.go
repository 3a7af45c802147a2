// Package store holds Keyward's storage contract for the entities the
// authorization server owns (clients, users, OAuth2 grants and tokens,
// consents, browser sessions, audit events) and the sentinel errors every
// engine returns.
//
// Each engine lives in a sub-package named after it (store/sqlite,
// store/postgres) and passes the one conformance suite in store/storetest.
// API keys and signing keys declare their own storage interfaces in
// package keys and keys/signing; the engines implement those too.
package store
