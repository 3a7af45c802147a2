package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys/signing"
)

type signingRow struct {
	KID, Alg, State, Created, Activated, Note string
	Revocable                                 bool
}

type signingData struct {
	Algorithms []string
	Active     map[string]string // alg → kid
	Keys       []signingRow
}

var stateRank = map[signing.State]int{signing.StateActive: 0, signing.StateNext: 1, signing.StateRetiring: 2, signing.StateRetired: 3}

// signingKeys lists the signing keys, in use first, with the rotate
// buttons (GET /console/signing-keys).
func (cs *Server) signingKeys(c *gin.Context) {
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
	d := signingData{Algorithms: cs.cfg.Signing.Algorithms(), Active: map[string]string{}}
	for _, r := range recs {
		row := signingRow{KID: r.KID, Alg: r.Alg, State: string(r.State), Created: when(r.CreatedAt),
			Activated: when(r.ActivatedAt), Revocable: r.State != signing.StateRetired}
		switch {
		case !r.RevokedAt.IsZero():
			row.State, row.Note = "revoked", "revoked "+when(r.RevokedAt)
		case r.State == signing.StateActive:
			d.Active[r.Alg] = r.KID
		case r.State == signing.StateRetiring:
			row.Note = "verifies until " + when(r.RetireAfter)
		}
		d.Keys = append(d.Keys, row)
	}
	cs.render(c, http.StatusOK, "console_signing.html", &view{Title: "Signing keys", Section: "signing-keys", D: d})
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
