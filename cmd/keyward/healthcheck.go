package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/pflag"
)

// healthcheck is "keyward healthcheck --url URL": exit 0 when URL answers
// 200, for container health checks on images without curl.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("keyward healthcheck", pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	url := fs.String("url", "http://127.0.0.1:8080/readyz", "URL that must answer 200")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", *url, resp.StatusCode)
	}
	return nil
}
