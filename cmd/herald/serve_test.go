package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
)

// startServe runs herald serve in-process with args and returns the hub's base URL and its
// standard output once it listens, and a function that stops it and returns serve's result.
func startServe(t *testing.T, args ...string) (string, *syncbuf.Buffer, func() error) {
	t.Helper()
	var c serveConfig
	fs := serveFlags(&c)
	if err := fs.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs, os.LookupEnv); err != nil {
		t.Fatal(err)
	}
	out := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, env{strings.NewReader(""), out, io.Discard}, &c, ready) }()
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(20 * time.Second):
				result = errors.New("serve did not return after shutdown")
			}
		})
		return result
	}
	select {
	case addr := <-ready:
		t.Cleanup(func() { stop() })
		return "http://" + addr, out, stop
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil, nil
}

func TestServeWithNoFlagsGeneratesKeyAndWorks(t *testing.T) {
	var c serveConfig
	serveFlags(&c).Parse(nil)
	if c.addr != ":8080" || c.store != "bolt" || c.dataDir != "./herald-data" || !c.anonymous {
		t.Fatalf("defaults: %+v", c)
	}

	dir := t.TempDir()
	base, out, _ := startServe(t, "--data", dir)
	if _, err := os.Stat(filepath.Join(dir, "history.db")); err != nil {
		t.Fatalf("the default store keeps no history file: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, "jwt.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("generated key: %v, mode %v", err, info.Mode())
	}
	welcome := out.String()
	// Standard output is no terminal here (as with journald or container logs): no token
	// is printed, only how to mint one.
	if !strings.Contains(welcome, base+"/.well-known/mercure") || strings.Contains(welcome, "Bearer") || !strings.Contains(welcome, " token --jwt-key-file ") {
		t.Fatalf("welcome text:\n%s", welcome)
	}
	tok := []string{"", keyFileToken(t, dir)}

	// Subscribe with a plain GET, publish with the herald publish command and the printed token.
	resp, err := http.Get(base + "/.well-known/mercure?topic=demo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	code, stdout, stderr := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", tok[1], "--topic", "demo", "--data", "hello", "--type", "greeting")
	if code != 0 || !strings.HasPrefix(stdout, "urn:uuid:") {
		t.Fatalf("publish: exit %d, %q, %q", code, stdout, stderr)
	}
	id := strings.TrimSpace(stdout)
	r := bufio.NewReader(resp.Body)
	var got strings.Builder
	for !strings.Contains(got.String(), "data: hello\n\n") {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got.String())
		}
		got.WriteString(line)
	}
	if !strings.Contains(got.String(), "id: "+id+"\nevent: greeting\n") {
		t.Fatalf("stream: %q", got.String())
	}

	// A restart on the same directory keeps the key: the printed token still works.
	if b, _ := os.ReadFile(filepath.Join(dir, "jwt.key")); len(strings.TrimSpace(string(b))) != 64 {
		t.Fatalf("key file %q", b)
	}
}

func TestServeKeepsKeyAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	c := &serveConfig{dataDir: dir}
	k1, gen1, err := hubSecret(c)
	if err != nil || !gen1 {
		t.Fatal(err)
	}
	k2, gen2, err := hubSecret(c)
	if err != nil || gen2 || k1 != k2 {
		t.Fatalf("second start: %q %v %v", k2, gen2, err)
	}
	os.WriteFile(filepath.Join(dir, "jwt.key"), []byte("\n"), 0o600)
	if _, _, err := hubSecret(c); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty key file: %v", err)
	}
}

func TestServeFromEnvironment(t *testing.T) {
	t.Setenv("HERALD_JWT_KEY", "env-secret-0123456789abcdef0123")
	t.Setenv("HERALD_ANONYMOUS", "false")
	base, _, _ := startServe(t)
	resp, err := http.Get(base + "/.well-known/mercure?topic=a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("anonymous subscriber with HERALD_ANONYMOUS=false: %d", resp.StatusCode)
	}
	code, _, stderr := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--jwt-key", "env-secret-0123456789abcdef0123", "--topic", "a", "--data", "x")
	if code != 0 {
		t.Fatalf("publish with the key from the environment: %s", stderr)
	}
	code, _, stderr = runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--jwt-key", "wrong-secret-0123456789abcdef01", "--topic", "a", "--data", "x")
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Fatalf("publish with a wrong key: exit %d, %q", code, stderr)
	}
}

func TestServeBadConfiguration(t *testing.T) {
	for _, args := range [][]string{
		{"--store", "nope"},
		{"--jwt-alg", "none"},
		{"--log-level", "loud"},
		{"--history-size", "many"},
	} {
		code, _, stderr := runHerald(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	t.Setenv("HERALD_HEARTBEAT", "often")
	if code, _, stderr := runHerald(t, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()); code != 2 || !strings.Contains(stderr, "HERALD_HEARTBEAT") {
		t.Errorf("bad environment value: exit %d, %q", code, stderr)
	}
}

func TestServeShutdownEndsStreamsWithRetry(t *testing.T) {
	base, _, stop := startServe(t, "--shutdown-grace", "5s")
	resp, err := http.Get(base + "/.well-known/mercure?topic=a")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	body, _ := io.ReadAll(resp.Body)
	if !regexp.MustCompile(`retry: \d+\n`).Match(body) {
		t.Fatalf("stream ended without a retry hint: %q", body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestServeHelpListsEveryFlagWithItsVariable(t *testing.T) {
	code, out, _ := runHerald(t, "", "serve", "--help")
	if code != 0 {
		t.Fatal(code)
	}
	var c serveConfig
	serveFlags(&c).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out, "-"+f.Name) {
			t.Errorf("--help does not list --%s", f.Name)
		}
	})
	if !strings.Contains(out, "HERALD_<NAME>") {
		t.Error("--help does not explain the environment variables")
	}
}

func TestServeHealthReadinessAndMetrics(t *testing.T) {
	data := t.TempDir()
	base, _, _ := startServe(t, "--data", data)
	tok := keyFileToken(t, data)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	sub, err := http.Get(base + "/.well-known/mercure?topic=m")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Body.Close()
	for i := range 3 {
		if code, _, errOut := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", tok, "--topic", "m", "--data", fmt.Sprint(i)); code != 0 {
			t.Fatal(errOut)
		}
	}
	runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", "bad", "--topic", "m", "--data", "x")
	// Deliveries are counted once written; wait for the three.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, metrics := get("/metrics")
		want := []string{
			"herald_subscribers 1",
			"herald_subscribes_total 1",
			`herald_publishes_total{result="ok"} 3`,
			`herald_publishes_total{result="refused"} 1`,
			`herald_request_errors_total{status="401"} 1`,
			"herald_deliveries_total 3",
			"herald_history_entries 3",
			"herald_store_commit_seconds_count 3",
			"herald_slow_consumers_total 0",
			"herald_history_oldest_age_seconds",
			"go_goroutines",
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q:\n%s", missing, metrics)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeCORS(t *testing.T) {
	base, _, _ := startServe(t, "--cors-origins", "https://app.example.com")
	for origin, want := range map[string]string{"https://app.example.com": "https://app.example.com", "https://evil.example.com": ""} {
		req, _ := http.NewRequest(http.MethodGet, base+"/.well-known/mercure?topic=a", nil)
		req.Header.Set("Origin", origin)
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Header.Get("Access-Control-Allow-Origin")
		creds := resp.Header.Get("Access-Control-Allow-Credentials")
		cancel()
		resp.Body.Close()
		if got != want || (want != "" && creds != "true") {
			t.Errorf("Origin %s: Allow-Origin %q, Allow-Credentials %q", origin, got, creds)
		}
	}
	code, _, stderr := runHerald(t, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--cors-origins", "not an origin")
	if code == 0 || !strings.Contains(stderr, "cors-origins") {
		t.Errorf("bad origin: exit %d, %q", code, stderr)
	}
}

func TestRedactStore(t *testing.T) {
	for in, want := range map[string]string{
		"bolt":                            "bolt",
		"redis://127.0.0.1:6379/0":        "redis://127.0.0.1:6379/0",
		"redis://user:s3cret@host:6379/0": "redis://user:xxxxx@host:6379/0",
	} {
		if got := redactStore(in); got != want {
			t.Errorf("redactStore(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServeWithRS256PublicKeys(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	privDER, _ := x509.MarshalPKCS8PrivateKey(priv)
	dir := t.TempDir()
	pubFile := filepath.Join(dir, "pub.pem")
	os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
	base, _, _ := startServe(t, "--jwt-alg", "RS256", "--publisher-jwt-key", "@"+pubFile, "--subscriber-jwt-key", "@"+pubFile)

	signer, err := auth.NewSigner("RS256", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := signer.Sign(auth.Claims{Publish: []string{"*"}, ExpiresAt: time.Now().Add(time.Hour)})
	if code, out, errOut := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", good, "--topic", "a", "--data", "x"); code != 0 || !strings.HasPrefix(out, "urn:uuid:") {
		t.Fatalf("RS256 token: exit %d, %q %q", code, out, errOut)
	}
	// An HS256 token "signed" with the public key as secret is the classic confusion attack.
	pemBytes, _ := os.ReadFile(pubFile)
	forged := jwtHS256(t, pemBytes)
	if code, _, errOut := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--token", forged, "--topic", "a", "--data", "x"); code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("HS256 token with the public key as secret: exit %d, %q", code, errOut)
	}
}

// jwtHS256 signs a publish-everything Mercure token with secret, without package auth.
func jwtHS256(t *testing.T, secret []byte) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}}}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// --pprof-addr serves Go's profiles on their own listener, never on the hub's.
func TestServePprofOnItsOwnAddress(t *testing.T) {
	pprofAddr := "127.0.0.1:" + freePort(t)
	base, _, stop := startServe(t, "--pprof-addr", pprofAddr)
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + pprofAddr + "/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Fatalf("heap profile: %d %.200q", code, body)
	}
	if code, _ := get(base + "/debug/pprof/heap"); code != http.StatusNotFound {
		t.Fatalf("the hub's own listener serves profiles: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + pprofAddr + "/debug/pprof/"); err == nil {
		t.Fatal("profiles still served after the hub stopped")
	}
}

// A --pprof-addr that cannot be listened on stops the hub before it serves, with the flag
// named in the error, and leaves the hub's own address free.
func TestServePprofAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := "127.0.0.1:" + freePort(t)
	code, _, stderr := runHerald(t, "", "serve", "--addr", addr, "--data", t.TempDir(), "--pprof-addr", taken.Addr().String())
	if code != 1 || !strings.Contains(stderr, "--pprof-addr") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the hub's address is still held after the failed start: %v", err)
	}
	ln.Close()
}

// keyFileToken mints a token allowed to publish and subscribe everywhere with the key a hub
// generated in dataDir.
func keyFileToken(t *testing.T, dataDir string) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(dataDir, "jwt.key"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Mint([]byte(strings.TrimSpace(string(key))), "HS256", auth.Claims{Publish: []string{"*"}, Subscribe: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The full-power token of the first start is printed to a terminal only, and never again.
func TestWelcomeTokenOnlyOnFirstStartAndOnATerminal(t *testing.T) {
	dir := t.TempDir()
	c := &serveConfig{dataDir: dir, jwtAlg: "HS256", ui: true}
	welcome := func(w io.Writer, generated bool, key string) {
		printWelcome(w, "http://localhost:8080", c, key, generated)
	}
	var buf strings.Builder
	welcome(&buf, true, "k")
	if strings.Contains(buf.String(), "Bearer") || !strings.Contains(buf.String(), "herald token") {
		t.Errorf("first start, not a terminal:\n%s", buf.String())
	}
	term, read := openTerminal(t)
	welcome(term, false, "k")
	if got := read(); strings.Contains(got, "Bearer") || !strings.Contains(got, "herald token") {
		t.Errorf("a later start, on a terminal:\n%s", got)
	}
	welcome(term, true, "k")
	if got := read(); !strings.Contains(got, "Authorization: Bearer ey") {
		t.Errorf("first start, on a terminal: no token in\n%s", got)
	}
	c.jwtKey = "k"
	welcome(&buf, false, "k")
	if strings.Contains(buf.String(), "Bearer") || !strings.Contains(buf.String(), "$HERALD_JWT_KEY") {
		t.Errorf("a key given by flag:\n%s", buf.String())
	}
}
