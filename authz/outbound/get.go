package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// Response is a fetched (or cached) 200 answer.
type Response struct {
	// URL is the one asked for; the body may come from a redirect target.
	URL    string
	Header http.Header
	// Body is shared with the cache: read it, never modify it.
	Body []byte
	// Cached: answered from the cache (fresh, or revalidated by a 304).
	Cached bool
}

// Get fetches rawURL with GET, from the cache while the cached answer is
// fresh. Errors: ErrForbiddenURL, ErrForbiddenAddress, ErrTooManyRedirects,
// ErrTooLarge, ErrTimeout, a *StatusError for an answer other than 200 (or
// 304 to a revalidation), or the network error. ctx's cancellation ends
// the wait; the fetch itself is bounded by Config.Timeout and shared with
// concurrent callers asking for the same URL.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbiddenURL, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	now := f.cfg.Now()
	stale := f.cache.get(rawURL)
	if stale != nil && stale.fresh(now) {
		return stale.response(rawURL), nil
	}
	ch := f.flight.DoChan(rawURL, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.Timeout)
		defer cancel()
		return f.fetch(fctx, rawURL, stale)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Response), nil
	}
}

// GetJSON is Get followed by decoding the body into v (ErrBadJSON when it
// does not decode).
func (f *Fetcher) GetJSON(ctx context.Context, rawURL string, v any) error {
	r, err := f.Get(ctx, rawURL)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadJSON, rawURL, err)
	}
	return nil
}

func (f *Fetcher) fetch(ctx context.Context, rawURL string, stale *entry) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbiddenURL, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "application/json, */*;q=0.5")
	if stale != nil {
		if stale.etag != "" {
			req.Header.Set("If-None-Match", stale.etag)
		}
		if stale.lastModified != "" {
			req.Header.Set("If-Modified-Since", stale.lastModified)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.wrapErr(rawURL, err)
	}
	defer resp.Body.Close()
	now := f.cfg.Now()
	if resp.StatusCode == http.StatusNotModified && stale != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) //nolint:errcheck // draining for reuse only
		e := stale.revalidated(resp.Header, f.cfg, now)
		f.cache.put(rawURL, e)
		return e.response(rawURL), nil
	}
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) //nolint:errcheck // draining for reuse only
		return nil, &StatusError{URL: rawURL, Code: resp.StatusCode}
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %s declares %d bytes (limit %d)", ErrTooLarge, rawURL, resp.ContentLength, f.cfg.MaxBytes)
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err == nil {
		// A body cut short by the deadline can read as a clean EOF.
		err = ctx.Err()
	}
	if err != nil {
		return nil, f.wrapErr(rawURL, err)
	}
	if int64(buf.Len()) > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %s (limit %d bytes)", ErrTooLarge, rawURL, f.cfg.MaxBytes)
	}
	e := newEntry(resp.Header, buf.Bytes(), f.cfg, now)
	if e.storable() {
		f.cache.put(rawURL, e)
	} else {
		f.cache.remove(rawURL)
	}
	r := e.response(rawURL)
	r.Cached = false
	return r, nil
}

// wrapErr makes a timeout ErrTimeout and keeps the guard's errors
// visible to errors.Is (they arrive wrapped in *url.Error / *net.OpError).
func (f *Fetcher) wrapErr(rawURL string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %s after %s", ErrTimeout, rawURL, f.cfg.Timeout)
	}
	for _, sentinel := range []error{ErrForbiddenAddress, ErrForbiddenURL, ErrTooManyRedirects} {
		if errors.Is(err, sentinel) {
			return fmt.Errorf("%w: %s: %v", sentinel, rawURL, unwrapURLError(err))
		}
	}
	return fmt.Errorf("outbound: GET %s: %w", rawURL, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
