// Package console is Keyward's web console under /console/ on the admin
// listener: server-rendered pages (templates in package web) where admin
// users manage signing keys, API keys, clients, users and webhooks (with
// their delivery logs) and read the audit log.
//
// The pages work without JavaScript (every action is a form POST answered
// with a 303 redirect) under a Content-Security-Policy that allows no
// script. Forms carry CSRF tokens (a signed double submit, bound to the
// form's path); a new secret is shown once, carried sealed in a
// short-lived cookie; the first admin user is made through a one-time
// setup link (SetupURL). Sessions are the console's sign-ins, and the
// admin API accepts them too (admin.Config.Sessions).
package console
