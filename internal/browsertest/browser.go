package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// StepTimeout bounds each step of a browser test, so a failure never hangs.
const StepTimeout = 20 * time.Second

// ChromiumPath returns the browser to run: $PARLEY_CHROMIUM, else Debian's
// /usr/bin/chromium. When there is none it skips the test, or fails it
// when $CI is set. The machine has no internet: never download one.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv("PARLEY_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (set PARLEY_CHROMIUM to a Chromium binary): %v", path, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// lockedBuffer collects the browser's own output for the log of a failed test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withoutDBus drops Chromium's complaints about the missing D-Bus, which
// containers lack and which never matter here.
func withoutDBus(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// NewBrowser starts a headless Chromium with a fresh profile and returns a
// context for its first tab, with a 1280x800 page. The browser ends when
// the test does. Call it after starting the server under test: cleanups run
// last-registered first, so the browser is gone before the server stops.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	exe := ChromiumPath(t)
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so the browser is gone before its profile
	// directory is removed, and before the server under test shuts down.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("browser output (D-Bus noise left out):\n%s", withoutDBus(out.String()))
		}
	})
	// The first run starts the browser and ties its life to ctx, so it must
	// not get a timeout of its own; guard it from outside instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium %s: %v\n%s", exe, err, withoutDBus(out.String()))
		}
	case <-time.After(StepTimeout):
		t.Fatalf("Chromium %s did not start within %s\n%s", exe, StepTimeout, withoutDBus(out.String()))
	}
	setViewport(t, ctx)
	return ctx
}

// setViewport makes the page area 1280x800. Headless Chromium takes the
// browser's toolbars off the window size, which leaves a 1280x657 page.
func setViewport(t testing.TB, tab context.Context) {
	t.Helper()
	Do(t, tab, "set the viewport", chromedp.EmulateViewport(1280, 800))
}

// NewIncognitoTab opens a tab in a new browser context of the same browser:
// it shares no cookies or storage with the other tabs.
func NewIncognitoTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("open a tab in a new browser context: %v", err)
		}
	case <-time.After(StepTimeout):
		t.Fatalf("opening a tab in a new browser context took over %s", StepTimeout)
	}
	setViewport(t, ctx)
	return ctx
}
