package authz

import (
	"time"

	"github.com/keyward/keyward/authz/accounts"
)

// pageSample is one page with data that takes one way through its
// template's branches.
type pageSample struct {
	name string
	data pageData
}

// samplePages are the public pages with data that, together, take every
// branch of the built-in templates: newPages renders each once in every
// language, so a theme's template that fails to execute stops the start,
// and the page tests render them all looking for missing messages.
func samplePages() []pageSample {
	scopes := describeScopes([]string{"openid", "profile", "email", "offline_access", "orders:read"})
	when := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	pk := []passkeyRow{{ID: "AQID", Name: "Laptop", Created: "2026-12-01 09:30 UTC", LastUsed: "2026-12-02 10:00 UTC", Synced: true},
		{ID: "BAUG", Name: "Key", Created: "2026-12-01 09:30 UTC"}}
	login := pageData{Title: tr("Sign in"), CSRF: "csrf", ReturnTo: "/oauth2/auth?client_id=app", Client: "Example App",
		Error: tr("Too many failed attempts. Try again in %d seconds."), ErrorArgs: []any{30}, Passkeys: true,
		Providers: []providerLink{{Name: "corp", DisplayName: "Corp", URL: "/login?provider=corp"}}}
	return []pageSample{
		{"login.html", login},
		{"login.html", pageData{Title: tr("Sign in"), CSRF: "csrf", Username: "ada", Error: tr("Wrong username or password.")}},
		{"consent.html", pageData{Title: tr("Allow access?"), Client: "Example App", Username: "ada", CSRF: "csrf",
			ReturnTo: "/oauth2/auth", Scopes: scopes, ClientHost: "app.example", ClientLogo: "https://app.example/logo.png",
			ReturnHost: "app.example"}},
		{"consent.html", pageData{Title: tr("Allow access?"), Client: "Example App", CSRF: "csrf", Scopes: scopes[:1]}},
		{"logout.html", pageData{Title: tr("Sign out"), Username: "ada", CSRF: "csrf", ClientID: "app"}},
		{"logout.html", pageData{Title: tr("Sign out"), CSRF: "csrf"}},
		{"logout.html", pageData{Title: tr("Signed out"), Done: true}},
		{"device.html", pageData{Title: tr("Connect a device"), CSRF: "csrf", UserCode: "BCDF-GHJK",
			Error: tr("Too many wrong codes. Try again in %d seconds."), ErrorArgs: []any{30}}},
		{"device.html", pageData{Title: tr("Connect a device"), CSRF: "csrf"}},
		{"device_consent.html", pageData{Title: tr("Allow access?"), Client: "TV", Username: "ada", CSRF: "csrf",
			UserCode: "BCDF-GHJK", Ticket: "t", Scopes: scopes, ClientLogo: "https://tv.example/logo.png"}},
		{"device_consent.html", pageData{Title: tr("Allow access?"), Client: "TV", CSRF: "csrf", UserCode: "BCDF-GHJK"}},
		{"error.html", pageData{Title: tr("Invalid sign-in request"), Code: "invalid_request", Detail: "redirect_uri is missing",
			Message: tr("The application that sent you here made a request this server cannot accept, so you cannot be sent back to it. " +
				"Go back to the application and try again; if it keeps happening, tell its developers.")}},
		{"message.html", pageData{Title: tr("Signed in"), Message: tr("You are signed in as %s."), MessageArgs: []any{"ada"}}},
		{"account.html", pageData{Title: tr("Your account"), CSRF: "csrf", Message: tr("Your password was changed. %d other sessions were signed out."),
			MessageArgs: []any{2}, Account: &accountView{Username: "ada", Methods: "pwd", Status: &accounts.Status{}}}},
		{"upstream_continue.html", pageData{Title: tr("Signed in"), Message: tr("You are signed in as %s."),
			MessageArgs: []any{"ada"}, ReturnTo: "/oauth2/auth"}},
		{"mfa.html", pageData{Title: tr("Confirm it’s you"), CSRF: "csrf", ReturnTo: "/oauth2/auth", Username: "ada",
			Client: "Example App", Error: tr("That code is not right."), Passkeys: true,
			MFA: &mfaView{TOTP: true, Passkeys: true, Recovery: true}}},
		{"mfa.html", pageData{Title: tr("Confirm it’s you"), CSRF: "csrf", Username: "ada", MFA: &mfaView{}}},
		{"account.html", pageData{Title: tr("Your account"), CSRF: "csrf", ReturnTo: "/oauth2/auth", Passkeys: true,
			Message: tr("Your authenticator app is set up."), Error: tr("No such passkey."),
			Account: &accountView{Username: "ada", Methods: "pwd otp", EnrolPrompt: true, Passkeys: pk,
				Sessions: []sessionRow{{SID: "s1", Created: "2026-12-01 09:30 UTC", Expires: "2026-12-31 09:30 UTC", Methods: "pwd otp", Browser: "Firefox", This: true},
					{SID: "s2", Created: "2026-12-02 09:30 UTC", Expires: "2026-12-31 09:30 UTC", Browser: "Safari"}},
				Apps:           []appRow{{ClientID: "app", Name: "Example App", Scopes: "openid profile", Granted: "2026-12-01 09:30 UTC"}},
				PasswordErrors: map[string]string{"current_password": tr("That is not your current password."), "new_password": tr("Choose a password of %d to %d bytes."), "new_password_confirm": tr("The two new passwords differ.")},
				Status:         &accounts.Status{TOTP: true, TOTPLastUsed: when, RecoveryCodes: 3}, RecoveryCodes: []string{"abcd-efgh"}}}},
		{"account.html", pageData{Title: tr("Your account"), CSRF: "csrf",
			Account: &accountView{Username: "ada", Methods: "pwd", Status: &accounts.Status{TOTP: true, RecoveryCodes: 10}, NoPassword: true}}},
		{"account.html", pageData{Title: tr("Your account"), CSRF: "csrf", Passkeys: true,
			Account: &accountView{Username: "ada", Methods: "pwd", Status: &accounts.Status{},
				Enrolment: &accounts.Enrolment{Secret: "JBSWY3DPEHPK3PXP", URL: "otpauth://totp/x"}, QR: qrOf("otpauth://totp/x")}}},
		{"account.html", pageData{Title: tr("Your account"), CSRF: "csrf",
			Account: &accountView{Username: "ada", Methods: "pwd", Status: &accounts.Status{}}}},
	}
}
