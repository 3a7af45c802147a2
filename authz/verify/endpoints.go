package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ServerError is a non-200 answer from an issuer endpoint, carrying the
// OAuth error members (RFC 6749 §5.2) when the body has them.
type ServerError struct {
	StatusCode  int
	Code        string // "error", e.g. invalid_client
	Description string // "error_description"
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("verify: issuer answered HTTP %d", e.StatusCode)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// post POSTs body with HTTP Basic client authentication (RFC 6749 §2.3.1:
// id and secret form-encoded first) and decodes a 200 JSON answer into out.
func (v *Verifier) post(ctx context.Context, endpoint, clientID, clientSecret, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		se := &ServerError{StatusCode: resp.StatusCode}
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(data, &oe) == nil {
			se.Code, se.Description = oe.Error, oe.Description
		}
		return se
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: decode answer: %v", ErrUnavailable, err)
	}
	return nil
}
