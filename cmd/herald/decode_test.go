package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runHerald runs the CLI in-process and returns its exit code and output.
func runHerald(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), env{strings.NewReader(stdin), &out, &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	stream := "\xEF\xBB\xBFretry: 500\n: hi\nid: 1\nevent: add\ndata: a\ndata: <b>\n\nretry: bad\ndata: c\r\n\r\ndata: lost"
	code, out, errOut := runHerald(t, stream, "decode", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `{"type":"add","data":"a\n<b>","lastEventId":"1"}
{"type":"message","data":"c","lastEventId":"1"}
{"retry_ms":500}
`
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestDecodeJSONWithoutRetry(t *testing.T) {
	t.Parallel()
	_, out, _ := runHerald(t, "data: x\n\n", "decode", "--json")
	if out != "{\"type\":\"message\",\"data\":\"x\",\"lastEventId\":\"\"}\n" {
		t.Fatalf("got %q", out)
	}
}

func TestDecodeHumanFromFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.sse")
	if err := os.WriteFile(path, []byte("id: 9\nevent: note\ndata: one\ndata: two\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runHerald(t, "", "decode", path)
	if code != 0 || out != "note  id=\"9\"\n  one\n  two\n\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestDecodeSampleStream(t *testing.T) {
	t.Parallel()
	// The README's first command decodes this file.
	code, out, errOut := runHerald(t, "", "decode", "--json", "../../examples/sample.sse")
	if code != 0 || strings.Count(out, "\n") != 6 || !strings.HasSuffix(out, "{\"retry_ms\":10000}\n") {
		t.Fatalf("exit %d, stderr %q, output:\n%s", code, errOut, out)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	code, _, errOut := runHerald(t, "", "decode", filepath.Join(t.TempDir(), "missing.sse"))
	if code != 1 || !strings.Contains(errOut, "missing.sse") || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runHerald(t, "data: ok\n\ndata: "+strings.Repeat("x", 100)+"\n\n", "decode", "--json", "--max-event-size", "50")
	if code != 1 || !strings.Contains(errOut, "line too long") || !strings.Contains(out, `"data":"ok"`) {
		t.Fatalf("oversized line: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runHerald(t, "", "decode", "a", "b"); code != 2 {
		t.Fatalf("two files: exit %d, want 2", code)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runHerald(t, "", "--help")
	if code != 0 || !strings.Contains(out, "decode") {
		t.Fatalf("herald --help: exit %d, %q", code, out)
	}
	code, out, _ = runHerald(t, "", "decode", "--help")
	if code != 0 || !strings.Contains(out, "Usage: herald decode") || !strings.Contains(out, "-json") {
		t.Fatalf("herald decode --help: exit %d, %q", code, out)
	}
	if code, _, errOut := runHerald(t, "", "decode", "--bogus"); code != 2 || !strings.Contains(errOut, "bogus") {
		t.Fatalf("bad flag: exit %d, %q", code, errOut)
	}
	if code, _, _ := runHerald(t, "", "nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}
