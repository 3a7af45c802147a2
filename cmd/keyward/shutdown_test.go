package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestGracefulShutdown: stopping the server while token requests are in
// flight lets them finish; every response that starts is complete, and
// serve exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	e.runJSON(&c, "", "clients", "create", "--name", "load")
	s := e.serve("--token-rate-limit", "-1")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var (
		wg                sync.WaitGroup
		ok, refused       atomic.Int64
		started           = make(chan struct{})
		startOnce         sync.Once
		body              = url.Values{"grant_type": {"client_credentials"}}.Encode()
		stopping, stopped atomic.Bool
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200 && !stopped.Load(); i++ {
				req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/oauth2/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(c.ClientID, c.ClientSecret)
				resp, err := client.Do(req)
				if err != nil {
					if !stopping.Load() {
						t.Errorf("request failed before shutdown: %v", err)
					}
					refused.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil && !errors.Is(err, io.EOF) {
					t.Errorf("truncated response: %v", err)
					continue
				}
				var tok map[string]any
				if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok["access_token"] == nil {
					t.Errorf("incomplete answer %d: %.100s", resp.StatusCode, b)
					continue
				}
				ok.Add(1)
				startOnce.Do(func() { close(started) })
			}
		}()
	}
	<-started
	stopping.Store(true)
	if code := s.stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	stopped.Store(true)
	wg.Wait()
	t.Logf("%d complete answers, %d refused after shutdown", ok.Load(), refused.Load())
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Error("serve did not log a clean stop")
	}
}
