package mercure

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// fromValues is what the handler read from url.ParseQuery's result before
// parsePublishForm: the reference the scan must agree with.
func fromValues(v url.Values) publishForm {
	return publishForm{topics: v["topic"], data: v.Get("data"), typ: v.Get("type"), id: v.Get("id"),
		retry: v.Get("retry"), hasID: v.Has("id"), hasRetry: v.Has("retry"), private: v.Has("private")}
}

// checkAgainstParseQuery fails when parsePublishForm's result or error differs from
// url.ParseQuery's for body.
func checkAgainstParseQuery(t *testing.T, body string) {
	t.Helper()
	got, gotErr := parsePublishForm([]byte(body))
	v, wantErr := url.ParseQuery(body)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%q: error %v, url.ParseQuery's %v", body, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if want := fromValues(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", body, got, want)
	}
}

func TestParsePublishFormAgreesWithParseQuery(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"",
		"topic=a",
		"topic=https%3A%2F%2Fexample.com%2Fbooks%2F1&data=" + strings.Repeat("x", 130),
		"topic=a&topic=b&topic=a&data=1&data=2&type=t&type=u&id=i&id=j&retry=5&retry=6&private",
		"private=&id=&retry=",
		"&&topic=a&&=&=x&data",
		"data=a+b%20c&topic=%E2%9C%93",
		"topic=a;b",              // a semicolon: an error
		"topic=a&data=%zz",       // a bad escape: an error
		"topic=%zz&data=a;b",     // both: the semicolon's error, as url.ParseQuery reports
		"da%74a=x&%74opic=y",     // escaped names
		"topic=a&private&data=+", // "+" is a space
		"to%70ic=a+b%2B&topic=%25%41+&topic=++&data=x%2b+y", // decoded in place, pair after pair
		"topic=%4",          // an escape cut short at the end
		"topic=%4&data=1",   // and before an "&"
		"topic=a&%=x",       // a bad escape in a name
		"topic=%41%4=&data", // a bad escape before the "="
		strings.Repeat("topic=t&", scanMaxPairs+1) + "data=many",
		strings.Repeat("&", 10001) + "topic=a", // past url's own limit on pairs
	} {
		checkAgainstParseQuery(t, body)
	}
}

func FuzzParsePublishForm(f *testing.F) {
	for _, s := range []string{"topic=a&data=b", "topic=a;b", "id=%zz&private", "retry=1&type=x&type=y"} {
		f.Add(s)
	}
	f.Fuzz(checkAgainstParseQuery)
}
