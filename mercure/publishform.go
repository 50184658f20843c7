package mercure

import (
	"net/url"
	"strings"
)

// publishForm holds the fields of a publish body the hub reads.
type publishForm struct {
	topics               []string // every topic, in order
	data, typ, id, retry string   // the first of each, as url.Values.Get gives it
	hasID, hasRetry      bool
	private              bool
}

// scanMaxPairs is the most "&"-separated pairs scanPublishForm takes; a body with more goes
// to url.ParseQuery, which knows its own limit on them.
const scanMaxPairs = 64

// parsePublishForm parses a publish body as url.ParseQuery does, with the same result and
// the same error, and keeps the fields a publish reads.
//
// NOTE: url.ParseQuery builds a map and a slice for every name, three or four allocations
// a publish, to be read once. The scan below takes the common body (a few pairs, no ";",
// valid escapes) without them; anything else goes to url.ParseQuery, so that the errors,
// and the limit on pairs, stay exactly its own.
func parsePublishForm(body string) (publishForm, error) {
	if strings.IndexByte(body, ';') < 0 && strings.Count(body, "&") < scanMaxPairs {
		if f, ok := scanPublishForm(body); ok {
			return f, nil
		}
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		return publishForm{}, err
	}
	f := publishForm{topics: v["topic"], data: v.Get("data"), typ: v.Get("type"), id: v.Get("id"), retry: v.Get("retry")}
	f.hasID, f.hasRetry, f.private = v.Has("id"), v.Has("retry"), v.Has("private")
	return f, nil
}

// scanPublishForm parses body, which holds no ";", pair by pair as url.ParseQuery does; it
// reports false at the first escape url.QueryUnescape refuses.
func scanPublishForm(body string) (publishForm, bool) {
	var f publishForm
	var hasData, hasType bool
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return f, false
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return f, false
		}
		switch name {
		case "topic":
			f.topics = append(f.topics, value)
		case "data":
			if !hasData {
				f.data, hasData = value, true
			}
		case "type":
			if !hasType {
				f.typ, hasType = value, true
			}
		case "id":
			if !f.hasID {
				f.id, f.hasID = value, true
			}
		case "retry":
			if !f.hasRetry {
				f.retry, f.hasRetry = value, true
			}
		case "private":
			f.private = true
		}
	}
	return f, true
}
