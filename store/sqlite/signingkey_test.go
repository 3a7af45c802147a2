package sqlite_test

import (
	"testing"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/storetest"
)

func TestSigningKeysConformance(t *testing.T) {
	storetest.RunSigningKeys(t, func(t *testing.T) signing.Store { return openTest(t) })
}
