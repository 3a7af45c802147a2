package accounts

// Login outcomes, as a LoginObserver is told them.
const (
	// LoginSucceeded is a sign-in with the right password.
	LoginSucceeded = "success"
	// LoginFailed is a wrong username or password (or, on the console, a
	// user who is no admin).
	LoginFailed = "failure"
	// LoginLockedOut is an attempt the LoginGuard refused before checking
	// the password, because of earlier failures.
	LoginLockedOut = "locked_out"
)

// LoginOutcomes is every login outcome, for observers that resolve their
// metric series up front.
var LoginOutcomes = []string{LoginSucceeded, LoginFailed, LoginLockedOut}

// LoginObserver is told the outcome of each password sign-in, for
// metrics. surface names the page ("login_page" for the public login
// page, "console" for the admin console), outcome is one of
// LoginOutcomes; neither is ever a value the user typed. It must be fast
// and never block.
type LoginObserver interface {
	Login(surface, outcome string)
}
