package console

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// The media types of the exports: JSON Lines (jsonlines.org) and CSV
// with a header row (RFC 4180).
const (
	jsonlType = "application/jsonl"
	csvType   = "text/csv; charset=utf-8; header=present"
)

// exportPageTime is how long writing one page of an export may take: the
// write deadline moves on by this much before each page, so that a long
// export outlives the server's WriteTimeout while a stalled reader does
// not hold the request for ever.
const exportPageTime = 30 * time.Second

// csvHeader names the columns of the CSV export.
var csvHeader = []string{"id", "created_at", "type", "actor", "subject", "data"}

// exportAudit downloads every event the filter of the audit page selects,
// in its order, as JSON Lines (format=jsonl: one event a line, in the
// form of the admin API and the webhooks) or CSV (format=csv)
// (GET /console/audit/export). It streams page by page, so memory stays
// bounded however long the log. A bad filter or format is a 422 page; a
// store failure before the first byte a 503 page; one after it cuts the
// connection, so the download fails instead of looking complete.
func (cs *Server) exportAudit(c *gin.Context) {
	format := c.Query("format")
	q, f, problems := auditFilter(c)
	if format != "jsonl" && format != "csv" {
		problems = append(problems, "Format: choose JSON Lines (jsonl) or CSV (csv).")
	}
	if problems != nil {
		cs.render(c, http.StatusUnprocessableEntity, "console_audit.html", &view{Title: "Audit log", Section: "audit",
			Error: "Nothing was exported; please correct the filter.", Errors: problems, D: &auditData{Q: q, Invalid: true}})
		return
	}
	ctx := c.Request.Context()
	page := store.Page{Limit: store.MaxPageLimit}
	list, next, err := cs.cfg.Store.ListAudit(ctx, f, page)
	if err != nil {
		cs.fail(c, err)
		return
	}

	name := "keyward-audit-" + cs.cfg.Now().UTC().Format("20060102T150405Z") + "." + format
	h := c.Writer.Header()
	if format == "csv" {
		h.Set("Content-Type", csvType)
	} else {
		h.Set("Content-Type", jsonlType)
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	buf := bufio.NewWriterSize(c.Writer, 32<<10)
	var w eventWriter = jsonlWriter{buf}
	if format == "csv" {
		w = newCSVWriter(buf)
	}
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(exportPageTime)) // not every writer has one
		for _, e := range list {
			if err = w.write(e); err != nil {
				break
			}
		}
		if err == nil {
			err = w.flush()
		}
		if err == nil {
			err = buf.Flush()
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil || next == "" {
			break
		}
		page.Cursor = next
		if list, next, err = cs.cfg.Store.ListAudit(ctx, f, page); err != nil {
			break
		}
	}
	if err != nil {
		cs.abortExport(c, err)
	}
	c.Abort()
}

// abortExport ends an export that failed after its first byte: the
// connection is cut (on HTTP/1.1), so the client sees a failed download
// rather than a short file that looks whole. gin refuses to hand over a
// connection once a body was written, so the cut is made on the server's
// own ResponseWriter beneath gin's (and any middleware's) wrapper.
func (cs *Server) abortExport(c *gin.Context, err error) {
	if ctxErr := c.Request.Context().Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return // the client went away
	}
	cs.cfg.Logger.Warn("console: audit export cut short", "err", err, "path", c.Request.URL.Path)
	var w http.ResponseWriter = c.Writer
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	if conn, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
		conn.Close()
	}
}

// eventWriter writes events in one export format.
type eventWriter interface {
	write(e *store.AuditEvent) error
	flush() error
}

type jsonlWriter struct{ w io.Writer }

func (j jsonlWriter) write(e *store.AuditEvent) error {
	b, err := json.Marshal(webhooks.NewEvent(e))
	if err != nil {
		return err
	}
	_, err = j.w.Write(append(b, '\n'))
	return err
}

func (jsonlWriter) flush() error { return nil }

type csvWriter struct {
	w      *csv.Writer
	header bool
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (cw *csvWriter) write(e *store.AuditEvent) error {
	if !cw.header {
		cw.header = true
		if err := cw.w.Write(csvHeader); err != nil {
			return err
		}
	}
	ev := webhooks.NewEvent(e)
	return cw.w.Write([]string{csvCell(ev.ID), ev.CreatedAt.UTC().Format(time.RFC3339Nano), csvCell(ev.Type),
		csvCell(ev.Actor), csvCell(ev.Subject), csvCell(compact(ev.Data))})
}

func (cw *csvWriter) flush() error {
	if !cw.header { // an empty export still names its columns
		cw.header = true
		if err := cw.w.Write(csvHeader); err != nil {
			return err
		}
	}
	cw.w.Flush()
	return cw.w.Error()
}

// csvCell defuses a cell that a spreadsheet would run as a formula (OWASP
// "CSV injection"): one that starts with =, +, -, @, a tab or a carriage
// return gets a leading single quote, which spreadsheets show as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
