// Package storetrace wraps Keyward's store in OpenTelemetry spans: DB
// implements every storage contract the server uses (store.Store,
// store.Events, store.SecretChecker, keys.Store, keys.RateCounter,
// signing.Store) by calling the engine it wraps, each call within a trace
// in a client span named "store.<Method>", a child of the caller's span.
//
// A span carries the engine (db.system.name), the method
// (db.operation.name) and, when the call fails, the kind of failure
// (error.type: not_found, conflict, invalid, unavailable, timeout,
// canceled or _OTHER); never an argument, a record or an error message, so
// no id, digest, sealed key or query detail reaches a trace. Not found,
// conflict, invalid and canceled are answers, not faults: only the others
// set the span's status to Error.
//
// Calls made outside any trace (the background jobs: usage flushes,
// rate-limit syncs, pruning) start no span unless Roots is set, so a
// traced server does not export a root span every 250 ms; and the server
// wraps its store only when tracing is on, so a server without an
// exporter pays nothing.
package storetrace
