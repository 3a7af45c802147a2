package console

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The console's browser tests drive its pages in a real Chromium
// (Debian's chromium, through chromedp), as cmd/keyward's browser tests
// do for the whole server: they type into the forms and press the
// buttons, at a phone-sized viewport.

// The phone viewport (an iPhone 12-15 in CSS pixels).
const phoneWidth, phoneHeight = 390, 844

// startChromium starts one headless Chromium for the test and returns a
// chromedp context of it. Without a Chromium in PATH the test skips,
// except under CI, where a missing browser fails the run.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	var bin string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium or chromium-browser in PATH: CI must run the browser test (apt-get install chromium)")
		}
		t.Skip("no chromium or chromium-browser in PATH: skipping the browser test (apt-get install chromium)")
	}
	life, cancelLife := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser to exit, before TempDir's removal
		cancelLife()
	})
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return browserCtx
}

// openTab opens a tab in a new browser context (no cookie shared with
// other tabs) and returns it with a function that reports what the
// browser complained about: console errors and warnings, exceptions, and
// log entries such as CSP violations.
func openTab(t *testing.T, browserCtx context.Context) (context.Context, func() []string) {
	t.Helper()
	var (
		mu       sync.Mutex
		problems []string
	)
	add := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, s)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(),
		chromedp.WithListener(func(ev any) {
			switch ev := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
					add(fmt.Sprintf("console.%s", ev.Type))
				}
			case *runtime.EventExceptionThrown:
				add("exception: " + ev.ExceptionDetails.Text)
			case *log.EventEntryAdded:
				if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
					add(fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
				}
			}
		}))
	t.Cleanup(cancel)
	return tab, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// browserLocation returns the tab's URL.
func browserLocation(t *testing.T, tab context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browserText returns the text of the tab's page.
func browserText(t *testing.T, tab context.Context) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatalf("page text: %v", err)
	}
	return s
}

// fitsPhone fails when the page scrolls sideways at the phone viewport.
func fitsPhone(t *testing.T, tab context.Context, name string) {
	t.Helper()
	w, err := chromedp.Run(tab, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 || w[0] > w[1] {
		t.Errorf("%s: page is %d px wide in a %d px viewport", name, w[0], w[1])
	}
}
