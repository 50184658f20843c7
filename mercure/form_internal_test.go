package mercure

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]formPair{
		"":                 nil,
		"a=1&b=2":          {{"a", "1"}, {"b", "2"}},
		"a=1;b=2":          {{"a", "1;b=2"}},              // only "&" separates
		"&&a&=x&":          {{"a", ""}, {"", "x"}},        // empty sequences skipped, bare name
		"a=%zz%4&b=%41%42": {{"a", "%zz%4"}, {"b", "AB"}}, // bad escapes kept as they are
		"a+b=c+d%2B":       {{"a b", "c d+"}},
		"a=b=c":            {{"a", "b=c"}},
		"m=%FF":            {{"m", "\xff"}},
	} {
		if got := parseForm(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseForm(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=%zz;b", "&&=&", "+%2B%", "m=%FF%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pairs := parseForm(s)
		if len(pairs) > strings.Count(s, "&")+1 {
			t.Fatalf("%d pairs from %q", len(pairs), s)
		}
		for _, p := range pairs {
			// Decoding never lengthens: every escape or "+" becomes one byte.
			if len(p.name)+len(p.value) > len(s) {
				t.Fatalf("pair %q longer than its input %q", p, s)
			}
		}
	})
}
