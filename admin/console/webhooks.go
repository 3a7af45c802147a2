package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// Webhooks makes the changes to webhooks (webhooks.Dispatcher): each in one
// transaction with its audit event, shared with the admin API.
type Webhooks interface {
	Create(ctx context.Context, w *store.Webhook) (secret string, err error)
	Update(ctx context.Context, id string, edit func(*store.Webhook) error) (*store.Webhook, error)
	Delete(ctx context.Context, id string) error
	RotateSecret(ctx context.Context, id string, overlap time.Duration) (*store.Webhook, string, error)
	Redeliver(ctx context.Context, id, eventID string, since time.Time) (int, error)
	SendTest(ctx context.Context, id string) error
}

var _ Webhooks = (*webhooks.Dispatcher)(nil)

// deliveryPageSize is how many deliveries a page of the delivery log
// shows; attemptsShown how many of each delivery's attempts it lists (the
// delivery's own page lists them all).
const (
	deliveryPageSize = 20
	attemptsShown    = 5
)

type webhookRow struct {
	ID, URL, EventTypes, Description, FailingSince, Created, Updated, OverlapUntil string
	Enabled, Failing                                                               bool
}

func (cs *Server) webhookRow(w *store.Webhook) webhookRow {
	row := webhookRow{ID: w.ID, URL: w.URL, EventTypes: strings.Join(w.EventTypes, " "), Description: w.Description,
		FailingSince: when(w.FailingSince), Created: when(w.CreatedAt), Updated: when(w.UpdatedAt),
		Enabled: w.Enabled, Failing: !w.FailingSince.IsZero()}
	if len(w.PreviousSecret) > 0 && cs.cfg.Now().Before(w.PreviousSecretUntil) {
		row.OverlapUntil = when(w.PreviousSecretUntil)
	}
	return row
}

// webhookForm is the create or edit form, kept as typed when it comes
// back with errors; Errs holds each field's problems.
type webhookForm struct {
	URL, EventTypes, Description string
	Enabled                      bool
	Errs                         map[string][]string
}

type webhooksData struct {
	listData[webhookRow]
	Form webhookForm
}

// webhookList lists the webhooks, a page at a time, above the form for a
// new one (GET /console/webhooks).
func (cs *Server) webhookList(c *gin.Context) {
	cs.renderWebhookList(c, http.StatusOK, webhookForm{Enabled: true}, "")
}

func (cs *Server) renderWebhookList(c *gin.Context, status int, f webhookForm, msg string) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Store.ListWebhooks(c.Request.Context(), p)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := webhooksData{listData: newList[webhookRow]("/console/webhooks", "URL, description or id", p), Form: f}
	for _, w := range list {
		d.Items = append(d.Items, cs.webhookRow(w))
	}
	d.setNext(next)
	cs.render(c, status, "console_webhooks.html", &view{Title: "Webhooks", Section: "webhooks", Error: msg, D: d})
}

// webhookFields reads the create or edit form; ok is false after an
// answer (a field far too long).
func (cs *Server) webhookFields(c *gin.Context) (webhookForm, bool) {
	var f webhookForm
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&f.URL, "url", 4096}, {&f.EventTypes, "event_types", 8192}, {&f.Description, "description", 4096}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return f, false
		}
		*fv.dst = v
	}
	f.Enabled = c.Request.PostForm.Get("enabled") == "on"
	return f, true
}

// apply sets w from f and returns f's problems by field (nil: none).
func (f *webhookForm) apply(w *store.Webhook) map[string][]string {
	w.URL, w.Description = f.URL, f.Description
	w.EventTypes = webhooks.UniqueTypes(strings.FieldsFunc(f.EventTypes, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}))
	var errs map[string][]string
	for _, p := range webhooks.Validate(w) {
		if errs == nil {
			errs = map[string][]string{}
		}
		errs[p.Field] = append(errs[p.Field], p.Msg)
	}
	return errs
}

// webhookData is the audit data of a webhook change, as the admin API
// records it.
// createWebhook registers a webhook and shows its signing secret once
// (POST /console/webhooks).
func (cs *Server) createWebhook(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	f, ok := cs.webhookFields(c)
	if !ok {
		return
	}
	f.Enabled = true
	w := &store.Webhook{ID: uuid.Must(uuid.NewV7()).String(), Enabled: true}
	if f.Errs = f.apply(w); f.Errs != nil {
		cs.renderWebhookList(c, http.StatusUnprocessableEntity, f, "The webhook was not created: please correct the fields marked below.")
		return
	}
	secret, err := cs.cfg.Webhooks.Create(c.Request.Context(), w)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.showOnce(c, revealed{Kind: "webhook", Action: "created", ID: w.ID, Name: w.URL, Secret: secret})
}

// deliveryRow is a delivery in the log, with its latest attempts.
type deliveryRow struct {
	ID                                                     string
	EventID, Status, Created, First, Last, Next, LastError string
	Attempts, LastStatus                                   int
	Log                                                    []attemptRow
	More                                                   bool // more attempts than Log lists
}

type attemptRow struct {
	At, Latency, Error, Response string
	Status                       int
}

func deliveryRowOf(d *store.Delivery) deliveryRow {
	row := deliveryRow{ID: strconv.FormatInt(d.ID, 10), EventID: d.EventID, Status: string(d.Status), Created: when(d.CreatedAt),
		First: when(d.FirstAttemptAt), Last: when(d.LastAttemptAt), Next: "—", LastError: d.LastError,
		Attempts: d.Attempts, LastStatus: d.LastStatus}
	if d.Status == store.DeliveryPending {
		row.Next = when(d.NextAttemptAt)
	}
	return row
}

func attemptRows(atts []*store.Attempt) []attemptRow {
	rows := make([]attemptRow, 0, len(atts))
	for _, a := range atts {
		rows = append(rows, attemptRow{At: when(a.AttemptedAt), Status: a.StatusCode, Error: a.Error, Response: a.Response,
			Latency: strconv.FormatFloat(float64(a.Latency.Microseconds())/1000, 'f', 1, 64) + " ms"})
	}
	return rows
}

type webhookPage struct {
	webhookRow
	Form       webhookForm
	Deliveries listData[deliveryRow]
	// SinceErr is the problem of the "redeliver since" field; Since its value.
	Since, SinceErr string
}

// webhook shows one webhook: its settings, actions and delivery log
// (GET /console/webhooks/:id).
func (cs *Server) webhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	w, err := cs.cfg.Store.GetWebhook(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	var notice string
	if c.Query("done") == "redelivered" {
		n, err := strconv.Atoi(c.Query("n"))
		if err == nil && n >= 0 && n <= store.MaxRedeliver {
			notice = fmt.Sprintf("Queued %d %s again; %s below.", n, plural(n, "delivery", "deliveries"),
				plural(n, "it shows in the log", "they show in the log"))
		}
	}
	cs.renderWebhook(c, http.StatusOK, w, nil, &view{Notice: notice})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// renderWebhook renders the webhook page of w; f, when set, is the edit
// form as typed (with its errors), and v holds the messages.
func (cs *Server) renderWebhook(c *gin.Context, status int, w *store.Webhook, f *webhookForm, v *view) {
	cur, ok := cs.cursorParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	list, next, err := cs.cfg.Store.ListDeliveries(ctx, w.ID, store.Page{Limit: deliveryPageSize, Cursor: cur})
	if err != nil {
		cs.fail(c, err)
		return
	}
	p, ok := v.D.(webhookPage)
	if !ok {
		p = webhookPage{}
	}
	p.webhookRow = cs.webhookRow(w)
	p.Deliveries = listData[deliveryRow]{First: cur == ""}
	if f != nil {
		p.Form = *f
	} else {
		p.Form = webhookForm{URL: w.URL, EventTypes: strings.Join(w.EventTypes, " "), Description: w.Description, Enabled: w.Enabled}
	}
	for _, d := range list {
		row := deliveryRowOf(d)
		atts, err := cs.cfg.Store.ListAttempts(ctx, d.ID)
		if err != nil {
			cs.fail(c, err)
			return
		}
		if len(atts) > attemptsShown {
			atts, row.More = atts[len(atts)-attemptsShown:], true
		}
		row.Log = attemptRows(atts)
		p.Deliveries.Items = append(p.Deliveries.Items, row)
	}
	if next != "" {
		p.Deliveries.Next = "/console/webhooks/" + urlPath(w.ID) + "?cursor=" + urlQuery(next)
	}
	v.Title, v.Section, v.D = "Webhook", "webhooks", p
	cs.render(c, status, "console_webhook.html", v)
}

// getWebhook loads the webhook id, answering (a 404 page when there is
// none) and returning false when it cannot.
func (cs *Server) getWebhook(c *gin.Context, id string) (*store.Webhook, bool) {
	w, err := cs.cfg.Store.GetWebhook(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return nil, false
	}
	return w, true
}

// updateWebhook saves the edit form: URL, event types, description and
// whether it is enabled (POST /console/webhooks/:id).
func (cs *Server) updateWebhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	f, ok := cs.webhookFields(c)
	if !ok {
		return
	}
	w, err := cs.cfg.Webhooks.Update(c.Request.Context(), id, func(w *store.Webhook) error {
		w.Enabled = f.Enabled
		if f.Errs = f.apply(w); f.Errs != nil {
			return errFormInvalid
		}
		return nil
	})
	if errors.Is(err, errFormInvalid) {
		if w, ok = cs.getWebhook(c, id); !ok {
			return
		}
		cs.renderWebhook(c, http.StatusUnprocessableEntity, w, &f,
			&view{Error: "The webhook was not saved: please correct the fields marked below."})
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/webhooks/"+urlPath(id)+"?done=updated")
}

// errFormInvalid rolls back a change whose form has problems.
var errFormInvalid = errors.New("console: the form has problems")

// confirmDeleteWebhook asks before deleting a webhook (GET
// /console/webhooks/:id/delete).
func (cs *Server) confirmDeleteWebhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	w, ok := cs.getWebhook(c, id)
	if !ok {
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Delete webhook?", Section: "webhooks",
		D: confirmData{Action: "/console/webhooks/" + id + "/delete", Button: "Delete webhook", Cancel: "/console/webhooks/" + id,
			Lines: []string{"The webhook to " + w.URL + " is removed with its delivery log; deliveries still waiting are dropped."}}})
}

// deleteWebhook deletes a webhook and its deliveries (POST
// /console/webhooks/:id/delete).
func (cs *Server) deleteWebhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if err := cs.cfg.Webhooks.Delete(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/webhooks?done=deleted")
}

// rotateWebhookSecret gives the webhook a new signing secret, shown once;
// the current one keeps signing beside it for the chosen overlap (POST
// /console/webhooks/:id/rotate-secret, overlap=24h|0|…).
func (cs *Server) rotateWebhookSecret(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	raw := strings.TrimSpace(c.Request.PostForm.Get("overlap"))
	overlap := webhooks.DefaultSecretOverlap
	if raw != "" {
		var err error
		overlap, err = parseLifetime(raw)
		if err != nil || len(raw) > 32 || overlap > webhooks.MaxSecretOverlap {
			cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "Overlap: want 0 to 30d, such as 0, 1h or 24h.")
			return
		}
	}
	w, secret, err := cs.cfg.Webhooks.RotateSecret(c.Request.Context(), id, overlap)
	if err != nil {
		cs.fail(c, err)
		return
	}
	note := "The previous secret stopped signing deliveries."
	if overlap > 0 {
		note = "Deliveries are signed with the previous secret too until " + when(w.PreviousSecretUntil) +
			" (" + overlap.String() + "), so receivers can switch without missing one."
	}
	cs.showOnce(c, revealed{Kind: "webhook", Action: "rotated", ID: w.ID, Name: w.URL, Secret: secret, Note: note})
}

// testWebhook records a webhook.test event, delivered to this webhook
// only (POST /console/webhooks/:id/test).
func (cs *Server) testWebhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if err := cs.cfg.Webhooks.SendTest(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/webhooks/"+urlPath(id)+"?done=test-sent")
}

// redeliverWebhook queues one event again (event_id=…), or every event
// since a time that the webhook selects (since=…, UTC) (POST
// /console/webhooks/:id/redeliver).
func (cs *Server) redeliverWebhook(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	pf := c.Request.PostForm
	eventID := strings.TrimSpace(pf.Get("event_id"))
	rawSince := strings.TrimSpace(pf.Get("since"))
	if len(eventID) > 200 || len(rawSince) > 64 {
		cs.message(c, http.StatusBadRequest, "Bad request", "The form has unexpected values.")
		return
	}
	var since time.Time
	switch {
	case eventID != "" && rawSince == "":
	case eventID == "" && pf.Has("since"):
		var err error
		if since, err = parseSince(rawSince, cs.cfg.Now()); err != nil {
			w, ok := cs.getWebhook(c, id)
			if !ok {
				return
			}
			cs.renderWebhook(c, http.StatusUnprocessableEntity, w, nil, &view{
				Error: "Nothing was redelivered: please correct the time marked below.",
				D:     webhookPage{Since: rawSince, SinceErr: err.Error()}})
			return
		}
	default:
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "Give either an event to redeliver or a time to redeliver everything since.")
		return
	}
	ctx := c.Request.Context()
	n, err := cs.cfg.Webhooks.Redeliver(ctx, id, eventID, since)
	if errors.Is(err, store.ErrNotFound) && eventID != "" {
		if _, werr := cs.cfg.Store.GetWebhook(ctx, id); werr == nil {
			cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "There is no event "+eventID+" to redeliver.")
			return
		}
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/webhooks/"+urlPath(id)+"?done=redelivered&n="+strconv.Itoa(n))
}

// parseSince reads the "redeliver since" time: what a datetime-local
// field sends (taken as UTC), or RFC 3339; not in the future.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("Since: required, such as 2026-12-01T09:30 (UTC)")
	}
	var t time.Time
	var err error
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", time.RFC3339} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, errors.New("Since: want a time such as 2026-12-01T09:30 (UTC) or RFC 3339")
	}
	if t.After(now.Add(time.Minute)) {
		return time.Time{}, errors.New("Since: that time is in the future")
	}
	return t.UTC(), nil
}

// delivery shows one delivery with every attempt (GET
// /console/webhooks/:id/deliveries/:delivery).
func (cs *Server) delivery(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	n, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || n <= 0 {
		cs.fail(c, store.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	w, ok := cs.getWebhook(c, id)
	if !ok {
		return
	}
	d, err := cs.cfg.Store.GetDelivery(ctx, id, n)
	if err != nil {
		cs.fail(c, err)
		return
	}
	atts, err := cs.cfg.Store.ListAttempts(ctx, d.ID)
	if err != nil {
		cs.fail(c, err)
		return
	}
	row := deliveryRowOf(d)
	row.Log = attemptRows(atts)
	cs.render(c, http.StatusOK, "console_delivery.html", &view{Title: "Delivery " + row.ID, Section: "webhooks",
		D: struct {
			Webhook  webhookRow
			Delivery deliveryRow
		}{cs.webhookRow(w), row}})
}
