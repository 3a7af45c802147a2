// Package resources holds the resource servers (protected resources) that
// an administrator registers for RFC 8707 resource indicators: their
// settings and validation, the registry that creates, changes and deletes
// them with audit events, the in-process snapshot the authorization and
// token endpoints read, the rule of which client may ask for which
// resource, and the JSON view the CLI and the admin API print.
//
// A client may ask for a registered resource unless its own resource list
// (store.Client.Resources) is non-empty and leaves it out, and for any
// resource in its own list (CONTRACT.md). It does not import fosite.
package resources
