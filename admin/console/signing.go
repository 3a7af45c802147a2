package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

type signingRow struct {
	KID, Alg, State, Created, Activated, Note string
	// Age is how long ago the key was made ("3 d"), Due what happens to it
	// next and when, "" for nothing scheduled.
	Age, Due  string
	Revocable bool
	// Imported: the key came from a file or the CLI, not generated here.
	Imported bool
}

// scheduleRow is one algorithm's active key and its next rotation.
type scheduleRow struct {
	Alg, KID, Rotation string
}

type signingData struct {
	Algorithms []string
	// Schedule lists each configured algorithm; Period is the scheduled
	// rotation period ("" when off).
	Schedule []scheduleRow
	Period   string
	Keys     []signingRow
	Import   importForm
}

var stateRank = map[signing.State]int{signing.StateActive: 0, signing.StateNext: 1, signing.StateRetiring: 2, signing.StateRetired: 3}

// signingKeys lists the signing keys, in use first, with their ages and
// what is scheduled for them, the rotate buttons and the import form
// (GET /console/signing-keys).
func (cs *Server) signingKeys(c *gin.Context) {
	cs.renderSigning(c, http.StatusOK, importForm{State: string(signing.StateNext)}, "")
}

func (cs *Server) renderSigning(c *gin.Context, status int, f importForm, errMsg string) {
	recs, err := cs.cfg.Signing.List(c.Request.Context())
	if err != nil {
		cs.fail(c, err)
		return
	}
	slices.SortStableFunc(recs, func(a, b *signing.Record) int {
		if d := stateRank[a.State] - stateRank[b.State]; d != 0 {
			return d
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	now := cs.cfg.Now()
	f.Algs = signing.DefaultAlgorithms()
	d := signingData{Algorithms: cs.cfg.Signing.Algorithms(), Import: f}
	if p := cs.cfg.Signing.RotationPeriod(); p > 0 {
		d.Period = keys.FormatDuration(p)
	}
	active := map[string]string{}
	for _, r := range recs {
		row := signingRow{KID: r.KID, Alg: r.Alg, State: string(r.State), Created: when(r.CreatedAt),
			Activated: when(r.ActivatedAt), Revocable: r.State != signing.StateRetired, Age: age(now.Sub(r.CreatedAt)),
			Imported: r.Origin == signing.OriginImported}
		switch {
		case !r.RevokedAt.IsZero():
			row.State, row.Note = "revoked", "revoked "+when(r.RevokedAt)
		case r.State == signing.StateActive:
			active[r.Alg] = r.KID
			if t, ok := cs.cfg.Signing.NextRotation(r.Alg); ok {
				row.Due = "replaced by the next key " + whenIn(t, now)
			}
		case r.State == signing.StateNext:
			if t, ok := cs.cfg.Signing.NextRotation(r.Alg); ok {
				row.Due = "becomes active " + whenIn(t, now)
			} else {
				row.Due = "becomes active at the next rotation"
			}
		case r.State == signing.StateRetiring:
			row.Note = "verifies until " + when(r.RetireAfter)
			row.Due = "leaves the JWKS " + whenIn(r.RetireAfter, now)
		}
		d.Keys = append(d.Keys, row)
	}
	for _, alg := range d.Algorithms {
		row := scheduleRow{Alg: alg, KID: active[alg], Rotation: "not scheduled"}
		if t, ok := cs.cfg.Signing.NextRotation(alg); ok {
			row.Rotation = whenIn(t, now)
		}
		d.Schedule = append(d.Schedule, row)
	}
	v := &view{Title: "Signing keys", Section: "signing-keys", Error: errMsg, D: d}
	if kid := c.Query("kid"); c.Query("done") == "imported" && kid != "" {
		for _, r := range recs {
			if r.KID == kid {
				v.Notice = "Imported key " + r.KID + " (" + r.Alg + "), now " + string(r.State) +
					". Its private key is encrypted at rest and never shown."
			}
		}
	}
	cs.render(c, status, "console_signing.html", v)
}

// age is a duration for people, in its largest whole unit: "3 d", "5 h",
// "12 min", "40 s".
func age(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " d"
	case d >= 2*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d >= 2*time.Minute:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/time.Second)) + " s"
}

// whenIn is a time and how far it is from now: "2026-12-05 10:00:00 UTC
// (in 3 d)", or "(due now)" once it has passed.
func whenIn(t, now time.Time) string {
	if !t.After(now) {
		return when(t) + " (due now)"
	}
	return when(t) + " (in " + age(t.Sub(now)) + ")"
}

// rotateSigningKeys rotates one algorithm, or every one for alg=all
// (POST /console/signing-keys/rotate).
func (cs *Server) rotateSigningKeys(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	ctx, alg := c.Request.Context(), c.Request.PostForm.Get("alg")
	opt := signing.RotateOptions{Force: c.Request.PostForm.Get("force") == "on"}
	var err error
	switch {
	case alg == "all":
		_, err = cs.cfg.Signing.RotateAll(ctx, opt)
	case slices.Contains(cs.cfg.Signing.Algorithms(), alg):
		_, err = cs.cfg.Signing.Rotate(ctx, alg, opt)
	default:
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request",
			"Choose one of the algorithms: "+strings.Join(cs.cfg.Signing.Algorithms(), ", ")+".")
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/signing-keys?done=rotated")
}

type confirmData struct {
	Action, Button, Cancel string
	Lines                  []string
	// Field, when set, is a hidden field the form posts along.
	Field, Value string
}

// confirmRevokeSigningKey asks before the emergency revocation of a key
// (GET /console/signing-keys/:kid/revoke).
func (cs *Server) confirmRevokeSigningKey(c *gin.Context) {
	kid, ok := cs.validID(c, "kid")
	if !ok {
		return
	}
	recs, err := cs.cfg.Signing.List(c.Request.Context())
	if err != nil {
		cs.fail(c, err)
		return
	}
	i := slices.IndexFunc(recs, func(r *signing.Record) bool { return r.KID == kid })
	if i < 0 {
		cs.message(c, http.StatusNotFound, "Not found", "There is no signing key "+kid+".")
		return
	}
	r := recs[i]
	lines := []string{
		"Key " + r.KID + " (" + r.Alg + ", " + string(r.State) + ") leaves the JWKS at once: every token it signed stops verifying.",
		"Use this only when the private key may be compromised. For routine changes, rotate instead.",
	}
	if r.State == signing.StateActive {
		lines = append(lines, "It is the active "+r.Alg+" key: the next key becomes active immediately.")
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Revoke signing key?", Section: "signing-keys",
		D: confirmData{Action: "/console/signing-keys/" + kid + "/revoke", Button: "Revoke key", Cancel: "/console/signing-keys", Lines: lines}})
}

// revokeSigningKey revokes a signing key (POST /console/signing-keys/:kid/revoke).
func (cs *Server) revokeSigningKey(c *gin.Context) {
	kid, ok := cs.validID(c, "kid")
	if !ok || !cs.parseForm(c) {
		return
	}
	if err := cs.cfg.Signing.Revoke(c.Request.Context(), kid); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/signing-keys?done=revoked")
}
