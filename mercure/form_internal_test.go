package mercure

import (
	"reflect"
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
