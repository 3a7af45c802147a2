// Package storetest is the one conformance suite every store engine runs
// in full: Run for store.Store, and one Run* function per domain store
// (RunAPIKeys, RunSigningKeys) declared beside it. Each sub-test opens
// its own empty, migrated store.
package storetest

import (
	"context"
	"testing"

	"github.com/keyward/keyward/store"
)

// Opener returns a fresh, empty, migrated store; it registers its own
// cleanup with t.
type Opener func(t *testing.T) store.Store

// Reopener returns a store on the same database as the last store it
// opened for this test, to check durability across close and reopen.
type Reopener func(t *testing.T) (open func() store.Store)

// Run runs the whole core suite against one engine.
func Run(t *testing.T, open Opener, reopen Reopener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Clients/CRUD", testClientsCRUD},
		{"Clients/NotFound", testClientsNotFound},
		{"Clients/Conflict", testClientsConflict},
		{"Clients/Pagination", testClientsPagination},
		{"Clients/Registered", testClientsRegistered},
		{"RegistrationTokens/CRUD", testRegistrationTokensCRUD},
		{"RegistrationTokens/Use", testRegistrationTokensUse},
		{"Clients/AssertionJTIs", testAssertionJTIs},
		{"Users/CRUD", testUsersCRUD},
		{"Users/Conflict", testUsersConflict},
		{"Users/Pagination", testUsersPagination},
		{"Users/ConcurrentWriters", testUsersConcurrent},
		{"Tokens/Lifecycle", testTokensLifecycle},
		{"Tokens/Request", testTokensRequest},
		{"Tokens/Expiry", testTokensExpiry},
		{"Tokens/Subject", testTokensSubject},
		{"Tokens/Batch", testTokensBatch},
		{"Tokens/BatchCreates", testTokensBatchCreates},
		{"Tokens/GroupCommit", testTokensGroupCommit},
		{"Tokens/BatchRead", testTokensBatchRead},
		{"Tokens/PushedRequests", testTokensPushedRequests},
		{"Revocation", testRevocation},
		{"DPoPReplay", testDPoPReplay},
		{"DPoPReplay/Race", testDPoPReplayRace},
		{"Consents", testConsents},
		{"BrowserSessions", testBrowserSessions},
		{"Factors/WebAuthn", testWebAuthnCredentials},
		{"Factors/TOTP", testTOTP},
		{"Factors/RecoveryCodes", testRecoveryCodes},
		{"Devices/Lifecycle", testDevicesLifecycle},
		{"Devices/Poll", testDevicesPoll},
		{"Devices/Expiry", testDevicesExpiry},
		{"Audit", testAudit},
		{"Audit/Filter", testAuditFilter},
		{"Audit/Order", testAuditOrder},
		{"Audit/FilterInvalid", testAuditFilterInvalid},
		{"Webhooks/CRUD", testWebhooksCRUD},
		{"Webhooks/Pagination", testWebhooksPagination},
		{"Resources/CRUD", testResourcesCRUD},
		{"Resources/Conflict", testResourcesConflict},
		{"Resources/Pagination", testResourcesPagination},
		{"Upstream/Providers", testUpstreamProviders},
		{"Lists/Search", testSearch},
		{"Upstream/Identities", testUpstreamIdentities},
		{"Idempotency", testIdempotency},
		{"Transactions", testTransactions},
		{"Outbox", testOutbox},
		{"Outbox/Atomic", testOutboxAtomic},
		{"Backchannel/SessionClients", testBackchannelSessionClients},
		{"Backchannel/Outbox", testBackchannelOutbox},
		{"UIChallenges", testUIChallenges},
		{"SecretFingerprint", testSecretFingerprint},
		{"Unavailable", testUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
	t.Run("Durability", func(t *testing.T) { testDurability(t, reopen(t)) })
}

func ctx() context.Context { return context.Background() }
