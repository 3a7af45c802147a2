package console

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
)

// A new API key, client secret or webhook signing secret is shown once, on the page the action
// redirects to (POST → 303 → GET, so a reload never repeats the action).
// It travels there sealed (AES-256-GCM, key derived from the system
// secret) in a cookie scoped to /console/reveal that lives five minutes,
// is bound to the console session, and is cleared by the page that shows
// it. Nothing is kept on the server, so this works behind a balancer too.

const (
	revealCookie = "kw_console_reveal"
	revealPath   = "/console/reveal"
	revealTTL    = 300 // seconds
)

// revealed is a secret on its way to the page that shows it.
type revealed struct {
	// Kind is "apikey", "client" or "webhook"; Action "created", "rolled"
	// or "rotated".
	Kind    string `json:"k"`
	Action  string `json:"a"`
	ID      string `json:"i"`
	Name    string `json:"n"`
	Secret  string `json:"s"`
	Note    string `json:"o,omitempty"`
	Session string `json:"u"`
	Expires int64  `json:"e"`
}

// showOnce seals v into the reveal cookie and redirects to the page that
// shows it.
func (cs *Server) showOnce(c *gin.Context, v revealed) {
	v.Session = cs.cfg.Sessions.binding(c.Request)
	v.Expires = cs.cfg.Now().Unix() + revealTTL
	plain, err := json.Marshal(v)
	if err != nil {
		cs.fail(c, err)
		return
	}
	sealed := cs.reveal.Seal(plain, []byte(revealCookie))
	http.SetCookie(c.Writer, &http.Cookie{Name: revealCookie, Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: revealPath, HttpOnly: true, Secure: cs.cfg.Sessions.secure(c.Request), SameSite: http.SameSiteStrictMode, MaxAge: revealTTL})
	see(c, revealPath)
}

// open returns the sealed secret of the request, if it is intact, fresh
// and this session's.
func (cs *Server) open(r *http.Request) (*revealed, bool) {
	ck, err := r.Cookie(revealCookie)
	if err != nil || len(ck.Value) > 4096 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil, false
	}
	plain, err := cs.reveal.Open(raw, []byte(revealCookie))
	if err != nil {
		return nil, false
	}
	var v revealed
	if json.Unmarshal(plain, &v) != nil || v.Session == "" || v.Session != cs.cfg.Sessions.binding(r) ||
		cs.cfg.Now().Unix() > v.Expires {
		return nil, false
	}
	return &v, true
}

// revealPage shows a new secret once and forgets it (GET /console/reveal).
func (cs *Server) revealPage(c *gin.Context) {
	v, ok := cs.open(c.Request)
	http.SetCookie(c.Writer, &http.Cookie{Name: revealCookie, Value: "", Path: revealPath, HttpOnly: true,
		Secure: cs.cfg.Sessions.secure(c.Request), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	if !ok {
		cs.message(c, http.StatusGone, "Nothing to show",
			"A new key or secret is shown only once, right after it is made. "+
				"If you did not copy it, roll the key or rotate the secret to get a new one.")
		return
	}
	title, section := "API key", "apikeys"
	switch v.Kind {
	case "client":
		title, section = "Client secret", "clients"
	case "webhook":
		title, section = "Webhook signing secret", "webhooks"
	}
	switch v.Action {
	case "created":
		title += " created"
	case "rolled":
		title += " rolled"
	case "rotated":
		title += " rotated"
	}
	cs.render(c, http.StatusOK, "console_reveal.html", &view{Title: title, Section: section, D: v})
}
