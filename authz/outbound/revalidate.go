package outbound

import (
	"context"
	"fmt"
	"net/url"
)

// Revalidate is Get without trusting the cached answer's freshness: it
// asks the origin again (conditionally, with If-None-Match or
// If-Modified-Since when the cached answer has them, so an unchanged
// document costs a 304), for a caller that knows its copy is out of date
// (a JWK Set without the kid a signature names). The caller bounds how
// often it does so. Errors as Get.
func (f *Fetcher) Revalidate(ctx context.Context, rawURL string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbiddenURL, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	stale := f.cache.get(rawURL)
	ch := f.flight.DoChan("revalidate "+rawURL, func() (any, error) {
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
