package sse_test

import (
	"net/http/httptest"
	"testing"

	"github.com/heraldsse/herald/sse"
)

func TestLastEventID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
		header []string
		want   string
	}{
		{"none", "/s", nil, ""},
		{"header", "/s", []string{"42"}, "42"},
		{"query", "/s?lastEventId=7", nil, "7"},
		{"mercure spelling", "/s?lastEventID=8", nil, "8"},
		{"header before query", "/s?lastEventId=7", []string{"42"}, "42"},
		{"camel case first", "/s?lastEventID=8&lastEventId=7", nil, "7"},
		{"empty header falls back to query", "/s?lastEventId=7", []string{""}, "7"},
		{"urn id", "/s?lastEventId=urn%3Auuid%3A0190", nil, "urn:uuid:0190"},
		{"spaces kept", "/s", []string{" a b "}, " a b "},
		{"query with LF is hostile", "/s?lastEventId=1%0Aevent%3A+x", nil, ""},
		{"query with CR is hostile", "/s?lastEventId=1%0D", nil, ""},
		{"query with NUL is hostile", "/s?lastEventId=1%00", nil, ""},
		{"hostile query does not fall through", "/s?lastEventId=1%0A&lastEventID=2", nil, ""},
		{"header with NUL is hostile", "/s?lastEventId=7", []string{"1\x00"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", tt.target, nil)
			for _, v := range tt.header {
				r.Header.Add("Last-Event-ID", v)
			}
			if got := sse.LastEventID(r); got != tt.want {
				t.Fatalf("LastEventID = %q, want %q", got, tt.want)
			}
		})
	}
}
