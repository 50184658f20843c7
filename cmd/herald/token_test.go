package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
)

// runToken runs "herald token" in-process with the given environment variables.
func runTokenCmd(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	code := tokenCommand(env{strings.NewReader(""), &out, &errOut}, args, lookup)
	return code, out.String(), errOut.String()
}

func verifyPrinted(t *testing.T, alg string, key []byte, out string) *auth.Claims {
	t.Helper()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("output %q is not one line", out)
	}
	v, err := auth.NewVerifier(alg, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("the printed token does not verify: %v", err)
	}
	return c
}

func TestTokenHS256(t *testing.T) {
	t.Parallel()
	code, out, errOut := runTokenCmd(t, nil, "--jwt-key", "s3cret",
		"--publish", "https://example.com/books/{id}", "--publish", "https://example.com/search{?q,lang}",
		"--subscribe", "*", "--payload", `{"user":"kevin"}`, "--subject", "kevin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := verifyPrinted(t, "HS256", []byte("s3cret"), out)
	if !slices.Equal(c.Publish, []string{"https://example.com/books/{id}", "https://example.com/search{?q,lang}"}) ||
		!slices.Equal(c.Subscribe, []string{"*"}) || string(c.Payload) != `{"user":"kevin"}` || c.Subject != "kevin" {
		t.Errorf("claims = %+v", c)
	}
	if d := time.Until(c.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Errorf("token expires in %v, want the default hour", d)
	}
	if !auth.CanPublish(c, []string{"https://example.com/search?q=go"}) {
		t.Error("the template with a comma was split")
	}
}

func TestTokenThroughRun(t *testing.T) {
	t.Parallel()
	// The command is registered in the command table.
	code, out, errOut := runHerald(t, "", "token", "--jwt-key", "k", "--subscribe", "https://example.com/a", "--exp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := verifyPrinted(t, "HS256", []byte("k"), out)
	if !c.ExpiresAt.IsZero() || len(c.Publish) != 0 || !slices.Equal(c.Subscribe, []string{"https://example.com/a"}) {
		t.Errorf("--exp 0: claims = %+v", c)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"HERALD_JWT_KEY": "from-env", "HERALD_JWT_ALG": "HS512"}
	code, out, errOut := runTokenCmd(t, environ, "--publish", "*", "--exp", "5m")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := verifyPrinted(t, "HS512", []byte("from-env"), out)
	if d := time.Until(c.ExpiresAt); d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("token expires in %v, want 5m", d)
	}
	// The flag wins over the environment.
	_, out, _ = runTokenCmd(t, environ, "--jwt-key", "from-flag", "--jwt-alg", "HS256", "--publish", "*")
	verifyPrinted(t, "HS256", []byte("from-flag"), out)
}

func TestTokenKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k) // SEC 1, as openssl ecparam writes it
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	privPath := filepath.Join(dir, "es256.pem")
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTokenCmd(t, nil, "--jwt-alg", "ES256", "--jwt-key-file", privPath, "--publish", "https://example.com/{id}")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := verifyPrinted(t, "ES256", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), out)
	if !auth.CanPublish(c, []string{"https://example.com/1"}) {
		t.Errorf("claims = %+v", c)
	}

	// An HS secret in a file, as an editor saves it, with a final newline.
	secretPath := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretPath, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runTokenCmd(t, nil, "--jwt-key-file", secretPath, "--subscribe", "*")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	verifyPrinted(t, "HS256", []byte("file-secret"), out)
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "public.pem")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
	const secret = "do-not-print-me"
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		code    int
		stderr  string
	}{
		{"no key", nil, []string{"--publish", "*"}, 2, "no key"},
		{"empty env key", map[string]string{"HERALD_JWT_KEY": ""}, []string{"--publish", "*"}, 2, "no key"},
		{"no rights", nil, []string{"--jwt-key", secret}, 2, "nothing to grant"},
		{"both keys", nil, []string{"--jwt-key", secret, "--jwt-key-file", pubPath, "--publish", "*"}, 2, "not both"},
		{"bad payload", nil, []string{"--jwt-key", secret, "--publish", "*", "--payload", "{"}, 2, "not valid JSON"},
		{"negative exp", nil, []string{"--jwt-key", secret, "--publish", "*", "--exp", "-1h"}, 2, "negative"},
		{"bad exp", nil, []string{"--jwt-key", secret, "--publish", "*", "--exp", "soon"}, 2, "invalid value"},
		{"unknown alg", nil, []string{"--jwt-key", secret, "--jwt-alg", "none", "--publish", "*"}, 2, "unknown --jwt-alg"},
		{"invalid template", nil, []string{"--jwt-key", secret, "--publish", "https://example.com/{id"}, 2, "invalid URI template"},
		{"empty selector", nil, []string{"--jwt-key", secret, "--publish", ""}, 2, "empty selector"},
		{"ES256 with a secret", nil, []string{"--jwt-key", secret, "--jwt-alg", "ES256", "--publish", "*"}, 2, "--jwt-key-file"},
		{"public key file", nil, []string{"--jwt-key-file", pubPath, "--jwt-alg", "ES256", "--publish", "*"}, 1, "private key"},
		{"missing file", nil, []string{"--jwt-key-file", filepath.Join(dir, "nope"), "--publish", "*"}, 1, "no such file"},
		{"PEM as HS secret", nil, []string{"--jwt-key-file", pubPath, "--publish", "*"}, 1, "PEM key"},
		{"argument", nil, []string{"--jwt-key", secret, "--publish", "*", "extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runTokenCmd(t, tt.environ, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.code, tt.stderr)
			}
			if strings.Contains(errOut, secret) {
				t.Errorf("the key was printed: %q", errOut)
			}
		})
	}
}

func TestTokenHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runTokenCmd(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "Usage: herald token") || !strings.Contains(out, "-exp") {
		t.Errorf("exit %d, help %q", code, out)
	}
}
