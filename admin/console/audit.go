package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// auditQuery is the filter of the audit log as the form sent it: the
// page's form shows it again, and the pager and export links carry it.
type auditQuery struct {
	Type, Actor, Subject, Since, Until string
	// Order is "desc" (newest first, the default) or "asc".
	Order string
}

// values returns q as query parameters, leaving out what is empty or the
// default.
func (q auditQuery) values() url.Values {
	v := url.Values{}
	for name, s := range map[string]string{"type": q.Type, "actor": q.Actor, "subject": q.Subject, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(name, s)
		}
	}
	if q.Order == "asc" {
		v.Set("order", "asc")
	}
	return v
}

// link returns path with q and extra as its query.
func (q auditQuery) link(path string, extra url.Values) string {
	v := q.values()
	for k, vs := range extra {
		v[k] = vs
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// maxAuditTimeLen bounds a typed time; a longer one is refused unread.
const maxAuditTimeLen = 64

// auditTimeLayouts are the times the filter form takes: what a
// datetime-local input sends (read as UTC), a date, or RFC 3339.
var auditTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// localTimeLayout is the value of a datetime-local input (HTML "valid
// normalized local date and time string", with seconds and fractions).
const localTimeLayout = "2006-01-02T15:04:05.999999999"

// auditFilter reads the filter of GET /console/audit and its export:
// type, actor, subject, since, until and order. problems lists, for the
// person, everything wrong with it (nil when nothing is).
func auditFilter(c *gin.Context) (q auditQuery, f store.AuditFilter, problems []string) {
	get := func(name string) string { return strings.TrimSpace(c.Query(name)) }
	q = auditQuery{Type: get("type"), Actor: get("actor"), Subject: get("subject"), Since: get("since"), Until: get("until"), Order: get("order")}
	switch q.Order {
	case "", "desc":
		q.Order, f.Desc = "desc", true
	case "asc":
	default:
		problems = append(problems, "Order: choose newest first or oldest first.")
		q.Order, f.Desc = "desc", true
	}
	f.Type, f.Actor, f.Subject = q.Type, q.Actor, q.Subject
	// A time that parses is shown again, and linked, in UTC in the form
	// a datetime-local input holds.
	parse := func(label string, s *string) time.Time {
		if *s == "" {
			return time.Time{}
		}
		if len(*s) <= maxAuditTimeLen {
			for _, layout := range auditTimeLayouts {
				if t, err := time.ParseInLocation(layout, *s, time.UTC); err == nil {
					*s = t.UTC().Format(localTimeLayout)
					return t
				}
			}
		}
		problems = append(problems, label+": enter a UTC date and time such as 2026-12-01T09:00, or an RFC 3339 time.")
		return time.Time{}
	}
	f.Since, f.Until = parse("From", &q.Since), parse("To", &q.Until)
	var ve *store.ValidationError
	if err := f.Check(); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	for i, p := range problems {
		problems[i] = strings.ToValidUTF8(p, "")
	}
	return q, f, problems
}

// auditField is one detail of an event, shown as a key and its value.
type auditField struct{ Key, Value string }

type auditRow struct {
	ID, When, Time, Type, Actor, Subject string
	Fields                               []auditField
}

// auditData is what console_audit.html reads.
type auditData struct {
	Q     auditQuery
	Items []auditRow
	// Filtered: a filter other than the order is set.
	Filtered bool
	// Invalid: the filter was refused (the page lists why).
	Invalid bool
	// Newest and Next are the URLs of the first and the next page, ""
	// when there is none (on the first page, or the last).
	Newest, Next string
	// ExportJSONL and ExportCSV download every event the filter selects.
	ExportJSONL, ExportCSV string
}

// auditLog lists the audit log, newest first (by time, then id) unless
// asked otherwise, filtered by event type, actor, subject and time, a
// page at a time (GET /console/audit). A bad filter is a 422 page with
// the form.
func (cs *Server) auditLog(c *gin.Context) {
	cur, ok := cs.cursorParam(c)
	if !ok {
		return
	}
	if cur != "" {
		if _, _, err := store.ParseAuditCursor(cur); err != nil {
			cs.message(c, http.StatusBadRequest, "Bad request", "The page cursor is not valid.")
			return
		}
	}
	q, f, problems := auditFilter(c)
	d := auditData{Q: q, Filtered: q.Type != "" || q.Actor != "" || q.Subject != "" || q.Since != "" || q.Until != ""}
	v := &view{Title: "Audit log", Section: "audit", D: &d}
	if problems != nil {
		d.Invalid = true
		v.Error, v.Errors = "The filter was not applied; please correct it.", problems
		cs.render(c, http.StatusUnprocessableEntity, "console_audit.html", v)
		return
	}
	list, next, err := cs.cfg.Store.ListAudit(c.Request.Context(), f, store.Page{Limit: consolePageSize, Cursor: cur})
	if err != nil {
		cs.fail(c, err)
		return
	}
	for _, e := range list {
		d.Items = append(d.Items, auditRow{ID: e.ID, When: when(e.CreatedAt), Time: e.CreatedAt.UTC().Format(time.RFC3339Nano),
			Type: e.Type, Actor: e.Actor, Subject: e.Subject, Fields: dataFields(e.Data)})
	}
	if cur != "" {
		d.Newest = q.link("/console/audit", nil)
	}
	if next != "" {
		d.Next = q.link("/console/audit", url.Values{"cursor": {next}})
	}
	d.ExportJSONL = q.link("/console/audit/export", url.Values{"format": {"jsonl"}})
	d.ExportCSV = q.link("/console/audit/export", url.Values{"format": {"csv"}})
	cs.render(c, http.StatusOK, "console_audit.html", v)
}

// maxFieldValue bounds a detail's value on the page (the export has it whole).
const maxFieldValue = 300

// dataFields returns the details of an event as fields sorted by key:
// strings as they are, other values as compact JSON. Details that are not
// a JSON object are one field, "data".
func dataFields(raw json.RawMessage) []auditField {
	var obj map[string]json.RawMessage
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return []auditField{{Key: "data", Value: clip(compact(raw))}}
	}
	fields := make([]auditField, 0, len(obj))
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = compact(v)
		}
		fields = append(fields, auditField{Key: clip(k), Value: clip(s)})
	}
	slices.SortFunc(fields, func(a, b auditField) int { return strings.Compare(a.Key, b.Key) })
	return fields
}

func compact(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// clip shortens s to maxFieldValue bytes of valid UTF-8, marking the cut.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxFieldValue {
		return s
	}
	cut := maxFieldValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
