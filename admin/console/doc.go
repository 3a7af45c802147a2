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
//
// Every list searches in the store (?q=, store.Page.Search) and keeps the
// search in its page links; a refused form comes back as typed with each
// problem beside its input, filed by errmsg.FieldOf as the admin API's
// 422 errors are. A signing key can be imported from an uploaded file
// (multipart, at most 64 KiB) through signing.Service.Import, the CLI's
// path.
package console
