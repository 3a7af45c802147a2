// Package accounts holds the people who sign in to Keyward: users and
// their validation, argon2id passwords (RFC 9106), the login guard that
// slows password guessing, and the browser sessions of the login pages
// and the console. Second factors and upstream identities will live here
// too. It does not import fosite.
package accounts
