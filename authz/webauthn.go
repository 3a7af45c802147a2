package authz

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/keyward/keyward/store"
)

// newRelyingParty is the WebAuthn relying party of the issuer: its RP ID
// is the issuer's host name and its one origin the issuer's (WebAuthn
// Level 3 §5.1.4.1, §13.4.9), so an assertion made for another origin
// fails verification. An RP ID must be a domain: for an issuer on an IP
// address (the default http://127.0.0.1:8080) it returns nil, and
// passkeys are off (use http://localhost:8080 to try them locally).
func newRelyingParty(issuer, name string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return nil, nil
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: name,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
}

// passkeyUser is a user with their credentials, as go-webauthn reads it.
// The user handle is the user's id (random, no personal data; §14.6.1).
type passkeyUser struct {
	u     *store.User
	creds []*store.WebAuthnCredential
}

func (p *passkeyUser) WebAuthnID() []byte          { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string        { return p.u.Username }
func (p *passkeyUser) WebAuthnDisplayName() string { return displayName(p.u) }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.creds))
	for _, c := range p.creds {
		out = append(out, toWebAuthn(c))
	}
	return out
}

var _ webauthn.User = (*passkeyUser)(nil)

func displayName(u *store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

func toWebAuthn(c *store.WebAuthnCredential) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, 0, len(c.Transports))
	for _, t := range c.Transports {
		tr = append(tr, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{ID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType, Transport: tr,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
			BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount}}
}

// passkeyAMR is the methods of a passkey assertion: hwk for a
// device-bound key, swk for a synced one (backup eligible), and user and
// mfa when the authenticator verified its user.
func passkeyAMR(c *store.WebAuthnCredential, userVerified bool) []string {
	amr := []string{amrHardware}
	if c.BackupEligible {
		amr = []string{amrSoftware}
	}
	if userVerified {
		amr = append(amr, amrUser, amrMFA)
	}
	return amr
}

// ceremonyCookie carries a WebAuthn ceremony's state (the challenge and
// what it is for) between its two requests, sealed so the browser can
// neither read nor alter it.
const ceremonyCookie = "kw_webauthn"

// ceremonyTTL bounds a ceremony (the browser prompt included).
const ceremonyTTL = 5 * time.Minute

// ceremony is the sealed state of one WebAuthn ceremony.
type ceremony struct {
	// Purpose is "register", "login" or "second".
	Purpose string               `json:"p"`
	UserID  string               `json:"u,omitempty"`
	Name    string               `json:"n,omitempty"`
	Session webauthn.SessionData `json:"s"`
	// Exp ends the ceremony (Unix seconds).
	Exp int64 `json:"e"`
}

type ceremonySealer struct {
	aead cipher.AEAD
	// used holds the challenges answered on this instance until they
	// expire: clearing the cookie only asks the browser to forget it, and
	// a copy of it must not start a second sign-in.
	used usedStates
}

func newCeremonySealer(key []byte) (*ceremonySealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &ceremonySealer{aead: aead}, nil
}

var errCeremony = errors.New("no WebAuthn ceremony in progress")

// saveCeremony seals cer into the ceremony cookie.
func (b *browserFlow) saveCeremony(w http.ResponseWriter, r *http.Request, cer *ceremony) error {
	cer.Exp = b.now().Add(ceremonyTTL).Unix()
	js, err := json.Marshal(cer)
	if err != nil {
		return err
	}
	sealed := b.ceremonies.aead.Seal(nil, nil, js, []byte(ceremonyCookie))
	b.setCookie(w, r, ceremonyCookie, base64.RawURLEncoding.EncodeToString(sealed), ceremonyTTL)
	return nil
}

// takeCeremony opens the ceremony cookie for purpose and clears it: each
// challenge is answered once.
func (b *browserFlow) takeCeremony(w http.ResponseWriter, r *http.Request, purpose string) (*ceremony, error) {
	ck, err := r.Cookie(ceremonyCookie)
	if err != nil || len(ck.Value) > 8<<10 {
		return nil, errCeremony
	}
	b.setCookie(w, r, ceremonyCookie, "", -time.Second)
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil, errCeremony
	}
	js, err := b.ceremonies.aead.Open(nil, nil, raw, []byte(ceremonyCookie))
	if err != nil {
		return nil, errCeremony
	}
	var cer ceremony
	if json.Unmarshal(js, &cer) != nil || cer.Purpose != purpose || b.now().Unix() > cer.Exp {
		return nil, errCeremony
	}
	if !b.ceremonies.used.use(cer.Session.Challenge, time.Unix(cer.Exp, 0), b.now()) {
		return nil, errCeremony
	}
	return &cer, nil
}
