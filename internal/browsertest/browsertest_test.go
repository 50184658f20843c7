package browsertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/heraldsse/herald/internal/browsertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBrowserLoadsPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<!doctype html><title>t</title><p id="p">0</p>
<script>setTimeout(() => { document.getElementById("p").textContent = navigator.userAgent }, 50)</script>`)
	}))
	defer srv.Close()
	tab := browsertest.Tab(t, browsertest.New(t))
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 5*time.Second, "the script to run", `document.getElementById("p").textContent !== "0"`)
	ua := browsertest.Eval[string](t, tab, `document.getElementById("p").textContent`)
	if !strings.Contains(ua, "Chrom") {
		t.Fatalf("user agent %q", ua)
	}
}

// TestMissingChromium runs this test binary again with no usable Chromium: the browser
// test must skip on a developer's machine and fail in CI.
func TestMissingChromium(t *testing.T) {
	if os.Getenv("BROWSERTEST_CHILD") != "" {
		browsertest.New(t)
		t.Fatal("New returned without a browser")
	}
	t.Parallel()
	for _, tt := range []struct {
		name string
		ci   string
		fail bool
		want string
	}{
		{"local skips", "", false, "SKIP"},
		{"CI fails", "true", true, "must not be skipped in CI"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissingChromium$", "-test.v")
			cmd.Env = append(os.Environ(), "BROWSERTEST_CHILD=1", "HERALD_CHROMIUM=/nonexistent/chromium", "CI="+tt.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.fail {
				t.Fatalf("failed=%v (%v), want %v:\n%s", failed, err, tt.fail, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Fatalf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}
