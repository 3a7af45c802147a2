package accounts

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/sqlite"
)

func newFactors(t *testing.T, now *time.Time) (*Factors, *sqlite.DB) {
	t.Helper()
	db := newDB(t)
	f, err := NewFactors(db, keys.Secret(bytes.Repeat([]byte{1}, 32)), "Keyward", func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return f, db
}

func TestTOTPEnrolAndReplay(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 12, 0, 10, 0, time.UTC)
	f, db := newFactors(t, &now)
	u := addUser(t, db, "u1", "alice", "pw", false)
	en, err := f.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := db.GetTOTP(ctx, u.ID)
	if bytes.Contains(stored.Secret, []byte(en.Secret)) {
		t.Fatal("the secret is stored in clear")
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(en.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := f.VerifyTOTP(ctx, u.ID, code(now)); !errors.Is(err, ErrNoFactor) {
		t.Fatalf("code before confirmation: %v, want ErrNoFactor", err)
	}
	if err := f.ConfirmTOTP(ctx, u.ID, "000000x"); !errors.Is(err, ErrBadCode) {
		t.Fatalf("malformed code: %v", err)
	}
	if err := f.ConfirmTOTP(ctx, u.ID, code(now)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.BeginTOTP(ctx, u); !errors.Is(err, ErrEnrolled) {
		t.Fatalf("second enrolment: %v, want ErrEnrolled", err)
	}
	// The confirmation code's step is used up.
	if err := f.VerifyTOTP(ctx, u.ID, code(now)); !errors.Is(err, ErrCodeReused) {
		t.Fatalf("replayed code: %v, want ErrCodeReused", err)
	}
	// The next step's code (clock drift) is accepted once; then the
	// current step's, being earlier, is a replay too.
	next := code(now.Add(30 * time.Second))
	if err := f.VerifyTOTP(ctx, u.ID, next); err != nil {
		t.Fatal(err)
	}
	if err := f.VerifyTOTP(ctx, u.ID, next); !errors.Is(err, ErrCodeReused) {
		t.Fatalf("replayed next code: %v", err)
	}
	if err := f.VerifyTOTP(ctx, u.ID, code(now.Add(5*time.Minute))); !errors.Is(err, ErrBadCode) {
		t.Fatalf("code far in the future: %v, want ErrBadCode", err)
	}
	now = now.Add(2 * time.Minute)
	if err := f.VerifyTOTP(ctx, u.ID, code(now)); err != nil {
		t.Fatalf("a later code: %v", err)
	}
	st, err := f.Status(ctx, u.ID)
	if err != nil || !st.TOTP || !st.HasSecondFactor() {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := f.RemoveTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.VerifyTOTP(ctx, u.ID, code(now)); !errors.Is(err, ErrNoFactor) {
		t.Fatalf("after removal: %v", err)
	}
}

func TestTOTPSecretBoundToUser(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	f, db := newFactors(t, &now)
	sq := db
	a := addUser(t, sq, "a", "a", "pw", false)
	b := addUser(t, sq, "b", "b", "pw", false)
	if _, err := f.BeginTOTP(ctx, a); err != nil {
		t.Fatal(err)
	}
	ta, _ := db.GetTOTP(ctx, a.ID)
	if _, err := f.open(b.ID, ta.Secret); err == nil {
		t.Fatal("a sealed secret opens for another user")
	}
}

func TestRecoveryCodesSingleUse(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	f, db := newFactors(t, &now)
	u := addUser(t, db, "u1", "alice", "pw", false)
	codes, err := f.NewRecoveryCodes(ctx, u.ID)
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("NewRecoveryCodes = %v, %v", codes, err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] || len(c) != 11 {
			t.Fatalf("code %q repeated or malformed", c)
		}
		seen[c] = true
	}
	// Case, spaces and dashes do not matter; each code works once.
	if err := f.UseRecoveryCode(ctx, u.ID, " "+upper(codes[0][:5])+codes[0][6:]); err != nil {
		t.Fatal(err)
	}
	if err := f.UseRecoveryCode(ctx, u.ID, codes[0]); !errors.Is(err, ErrBadCode) {
		t.Fatalf("second use: %v, want ErrBadCode", err)
	}
	if err := f.UseRecoveryCode(ctx, u.ID, "aaaaa-aaaaa"); !errors.Is(err, ErrBadCode) {
		t.Fatalf("unknown code: %v", err)
	}
	if n, _ := db.CountRecoveryCodes(ctx, u.ID); n != RecoveryCodeCount-1 {
		t.Fatalf("unused codes = %d", n)
	}
	// New codes replace the old ones.
	if _, err := f.NewRecoveryCodes(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.UseRecoveryCode(ctx, u.ID, codes[1]); !errors.Is(err, ErrBadCode) {
		t.Fatalf("a replaced code: %v", err)
	}
}

func upper(s string) string { return string(bytes.ToUpper([]byte(s))) }
