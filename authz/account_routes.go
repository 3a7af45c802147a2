package authz

import "github.com/gin-gonic/gin"

// mountFactors registers the account page, the second step and, when the
// issuer can be a WebAuthn relying party, the passkey ceremonies.
func (p *Provider) mountFactors(r gin.IRouter) {
	b := p.browser
	r.GET(PathAccount, b.accountPage)
	r.POST(PathAccount+"/totp", b.totpBegin)
	r.POST(PathAccount+"/totp/confirm", b.totpConfirm)
	r.POST(PathAccount+"/totp/remove", b.totpRemove)
	r.POST(PathAccount+"/recovery", b.recoveryRenew)
	r.POST(PathAccount+"/passkeys/remove", b.passkeyRemove)
	r.POST(PathAccount+"/password", b.passwordChange)
	r.POST(PathAccount+"/sessions/end", b.sessionEnd)
	r.POST(PathAccount+"/apps/revoke", b.consentRevoke)
	r.GET(PathSecondStep, b.secondStepPage)
	r.POST(PathSecondStep, b.secondStep)
	if b.rp == nil {
		return
	}
	r.POST(PathPasskeyRegistration+"/begin", b.passkeyRegisterBegin)
	r.POST(PathPasskeyRegistration+"/finish", b.passkeyRegisterFinish)
	r.POST(PathPasskeySecond+"/begin", b.passkeySecondBegin)
	r.POST(PathPasskeySecond+"/finish", b.passkeySecondFinish)
	r.POST(PathPasskeyLogin+"/begin", b.passkeyLoginBegin)
	r.POST(PathPasskeyLogin+"/finish", b.passkeyLoginFinish)
}
