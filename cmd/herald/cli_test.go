package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
)

// cliRun is one run of the herald binary (this test binary, turned into herald by
// HERALD_TEST_AS_HERALD, see TestMain).
type cliRun struct {
	dir   string   // working directory; empty means the test's
	env   []string // extra environment
	stdin string
}

// herald runs the binary with args and returns its exit code, standard output and error.
// It gives up after 20 s, which the test reports.
func (r cliRun) herald(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Dir = r.dir
	cmd.Env = append(append(os.Environ(), "HERALD_TEST_AS_HERALD=1", "HERALD_JWT_KEY=", "HERALD_DATA=", "NO_COLOR="), r.env...)
	cmd.Stdin = strings.NewReader(r.stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("herald %q did not exit within 20 s; stdout %q, stderr %q", args, out.String(), errOut.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestCLIVersion: "herald version" and "herald --version" print the build's version.
func TestCLIVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := cliRun{}.herald(t, args...)
		if code != 0 || !regexp.MustCompile(`^herald \S+.* go1\.\d+`).MatchString(out) || strings.Count(out, "\n") != 1 {
			t.Errorf("herald %s: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
		}
	}
	if code, _, errOut := (cliRun{}).herald(t, "version", "extra"); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("herald version extra: exit %d, %q", code, errOut)
	}
}

// TestCLIFlagsAfterArguments: flags may follow the positional arguments, and surplus
// arguments are refused with exit status 2, in every command.
func TestCLIFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "s.sse")
	if err := os.WriteFile(file, []byte("retry: 500\ndata: x\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cliRun{}.herald(t, "decode", file, "--json")
	if want := "{\"type\":\"message\",\"data\":\"x\",\"lastEventId\":\"\"}\n{\"retry_ms\":500}\n"; code != 0 || out != want {
		t.Errorf("decode FILE --json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = cliRun{stdin: "data: y\n\n"}.herald(t, "decode", "--json", "--", "-")
	if code != 0 || !strings.Contains(out, `"data":"y"`) {
		t.Errorf("decode --json -- -: exit %d, stdout %q", code, out)
	}
	for _, args := range [][]string{
		{"decode", file, "--json", "extra"},
		{"publish", "--hub", "http://127.0.0.1:1/", "--topic", "t", "--data", "x", "--token", "t", "extra"},
		{"token", "--jwt-key", "k", "--publish", "*", "extra"},
		{"serve", "--addr", "127.0.0.1:1", "extra"},
		{"listen", "http://127.0.0.1:1/", "extra"},
		{"bench", "fanout", "extra"},
	} {
		code, out, errOut := cliRun{dir: t.TempDir()}.herald(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, `unexpected argument "extra"`) {
			t.Errorf("herald %q: exit %d, stdout %q, stderr %q; want 2 and the surplus argument named", args, code, out, errOut)
		}
	}
}

// TestCLIEnvironmentErrors: a variable that does not parse names the type it should hold.
func TestCLIEnvironmentErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ variable, want string }{
		{"HERALD_UI=nope", "HERALD_UI: want true or false"},
		{"HERALD_HISTORY_SIZE=lots", "HERALD_HISTORY_SIZE: want a whole number"},
		{"HERALD_HEARTBEAT=10", "HERALD_HEARTBEAT: want a duration such as 500ms, 15s or 2h"},
		{"HERALD_PUBLISH_RATE=fast", "HERALD_PUBLISH_RATE: want a number"},
	} {
		code, _, errOut := cliRun{dir: t.TempDir(), env: []string{tc.variable}}.herald(t, "serve", "--addr", "127.0.0.1:0")
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "parse error") {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.variable, code, errOut, tc.want)
		}
	}
}

// TestCLIDecodeEscapesControls: "herald decode" shows a stream's control characters escaped,
// as listen does, so that a stream cannot drive the terminal; JSON output escapes them too.
func TestCLIDecodeEscapesControls(t *testing.T) {
	t.Parallel()
	stream := "event: t\x1b]0;owned\x07\nid: \x1b[2J\ndata: \x1b[31mred\x1b[0m\u009b\n\n"
	code, out, _ := cliRun{stdin: stream}.herald(t, "decode")
	if code != 0 || strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("exit %d, stdout %q holds raw control characters", code, out)
	}
	if want := "t\\x1b]0;owned\\x07  id=\"\\x1b[2J\"\n  \\x1b[31mred\\x1b[0m\\x9b\n\n"; out != want {
		t.Fatalf("stdout %q, want %q", out, want)
	}
	_, out, _ = cliRun{stdin: stream}.herald(t, "decode", "--json")
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("JSON stdout %q holds raw control characters", out)
	}
}

// TestCLINoColor: on a terminal listen colours the output, unless NO_COLOR is set. The
// terminal is a real pseudo-terminal, made by script(1).
func TestCLINoColor(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed: no pseudo-terminal to test with")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: note\ndata: hi\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	for _, tc := range []struct {
		noColor string
		colour  bool
	}{{"", true}, {"1", false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, script, "-qec", os.Args[0]+" listen "+srv.URL, "/dev/null")
		cmd.Env = append(os.Environ(), "HERALD_TEST_AS_HERALD=1", "NO_COLOR="+tc.noColor, "TERM=xterm")
		var out syncbuf.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		for !strings.Contains(out.String(), "hi") && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		cancel()
		got := out.String()
		if !strings.Contains(got, "hi") {
			t.Fatalf("NO_COLOR=%q: no event in %q", tc.noColor, got)
		}
		if coloured := strings.Contains(got, "\x1b[1;36mnote"); coloured != tc.colour {
			t.Errorf("NO_COLOR=%q: output %q, coloured %v, want %v", tc.noColor, got, coloured, tc.colour)
		}
	}
}

// TestCLIKeyFromDataDirectory: on the hub's machine, publish and token find the key herald
// serve generated in ./herald-data, or in the directory --data (--data-dir for publish)
// names, and take --jwt-key-file, as serve finds its key.
func TestCLIKeyFromDataDirectory(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	data := filepath.Join(work, "herald-data")
	hub := startHubProcess(t, "127.0.0.1:"+freePort(t), data, "--jwt-key", "")
	key, err := os.ReadFile(filepath.Join(data, "jwt.key"))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(key))
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier("HS256", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	for _, tc := range []struct {
		name string
		run  cliRun
		args []string
	}{
		{"./herald-data", cliRun{dir: work}, nil},
		{"--data", cliRun{dir: elsewhere}, []string{"--data", data}},
		{"HERALD_DATA", cliRun{dir: elsewhere, env: []string{"HERALD_DATA=" + data}}, nil},
		{"--jwt-key-file", cliRun{dir: elsewhere}, []string{"--jwt-key-file", keyFile}},
	} {
		code, out, errOut := tc.run.herald(t, append([]string{"token", "--publish", "*"}, tc.args...)...)
		if code != 0 {
			t.Errorf("token with the key from %s: exit %d, %q", tc.name, code, errOut)
			continue
		}
		if _, err := verifier.Verify(strings.TrimSpace(out)); err != nil {
			t.Errorf("token with the key from %s does not verify: %v", tc.name, err)
		}
		args := []string{"publish", "--hub", hub.base + "/.well-known/mercure", "--topic", "t", "--data", "from " + tc.name}
		for i, a := range tc.args {
			if a == "--data" {
				tc.args[i] = "--data-dir"
			}
		}
		code, out, errOut = tc.run.herald(t, append(args, tc.args...)...)
		if code != 0 || !strings.HasPrefix(out, "urn:uuid:") {
			t.Errorf("publish with the key from %s: exit %d, stdout %q, stderr %q", tc.name, code, out, errOut)
		}
	}
	code, _, errOut := cliRun{dir: elsewhere}.herald(t, "publish", "--hub", hub.base+"/.well-known/mercure", "--topic", "t", "--data", "x")
	if code != 1 || !strings.Contains(errOut, "herald-data") {
		t.Errorf("publish with no key anywhere: exit %d, %q; want the places it looked", code, errOut)
	}
}

// TestCLIRefusalReasons: when the hub answers 4xx, listen and publish print its reason.
func TestCLIRefusalReasons(t *testing.T) {
	t.Parallel()
	hub := startHubProcess(t, "127.0.0.1:"+freePort(t), t.TempDir())
	code, _, errOut := cliRun{}.herald(t, "listen", hub.base+"/.well-known/mercure")
	if code != 1 || !strings.Contains(errOut, "400 Bad Request: missing topic selector") {
		t.Errorf("listen without a topic: exit %d, stderr %q", code, errOut)
	}
	bad, _ := auth.Mint([]byte("another key, not the hub's, long enough"), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	code, _, errOut = cliRun{}.herald(t, "publish", "--hub", hub.base+"/.well-known/mercure", "--topic", "t", "--data", "x", "--token", bad)
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("publish with a foreign token: exit %d, stderr %q", code, errOut)
	}
}

// TestCLIListenEndsAfterAPrompt: "herald listen --data" against the llm example gets one
// answer and exits, instead of sending the prompt again after every [DONE]; --reconnect
// asks again.
func TestCLIListenEndsAfterAPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the llm example")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "llm")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/llm").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + freePort(t)
	server := exec.Command(bin, "-addr", addr, "-delay", "1ms")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { server.Process.Kill(); server.Wait() }()
	url := "http://" + addr + "/v1/chat/completions"
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the llm example did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	prompt, _ := json.Marshal(map[string]any{"stream": true, "messages": []map[string]string{{"role": "user", "content": "Why SSE?"}}})
	began := time.Now()
	code, out, errOut := cliRun{}.herald(t, "listen", "--json", "--data", string(prompt), "-H", "Content-Type: application/json", url)
	if code != 0 || strings.Count(out, `"data":"[DONE]"`) != 1 || strings.Contains(errOut, "reconnecting") {
		t.Fatalf("exit %d after %v, %d answers; stderr %q", code, time.Since(began), strings.Count(out, "[DONE]"), errOut)
	}
}

// TestCommandFor: the banner suggests "go run ./cmd/herald" only to a binary go run built.
func TestCommandFor(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/tmp/go-build1234567/b001/exe/herald":                  "go run ./cmd/herald",
		"/home/me/.cache/go-build/x/go-build99/b001/exe/herald": "go run ./cmd/herald",
		"/home/me/go/bin/herald":                                "herald",
		"/usr/local/bin/herald":                                 "herald",
		"/tmp/go-build1234567/b001/herald.test":                 "herald",
		"/srv/exe/herald":                                       "herald",
	} {
		if got := commandFor(path); got != want {
			t.Errorf("commandFor(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestSelfCommandOfThisBinary: a binary that go run did not build (this test binary, as an
// installed herald) tells people to run "herald".
func TestSelfCommandOfThisBinary(t *testing.T) {
	t.Parallel()
	if got := selfCommand(); got != "herald" {
		t.Fatalf("selfCommand() = %q for %s", got, os.Args[0])
	}
}
