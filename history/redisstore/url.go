package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
)

// target is where a store URL points: one server, a Sentinel-watched master, or a
// cluster's seed nodes.
type target struct {
	kind     string // "redis", "sentinel" or "cluster"
	addrs    []string
	username string
	password string
	db       int
	tls      bool

	// Sentinel only.
	master           string
	sentinelPassword string
}

// Schemes a store URL may use.
const (
	schemeSentinel    = "redis-sentinel://"
	schemeSentinelTLS = "rediss-sentinel://"
	schemeCluster     = "redis-cluster://"
	schemeClusterTLS  = "rediss-cluster://"
)

// IsURL reports whether s is a store URL this package opens (by its scheme alone).
func IsURL(s string) bool {
	for _, p := range []string{"redis://", "rediss://", schemeSentinel, schemeSentinelTLS, schemeCluster, schemeClusterTLS} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// errURL is what every URL error wraps.
var errURL = errors.New("redisstore: bad store URL")

// parseMulti parses the Sentinel and cluster forms:
//
//	redis-sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...][/DB]?master=NAME[&sentinel_password=P]
//	redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]
//
// (rediss-… for TLS). Go's URL parser refuses several hosts, so the authority is split
// here; the rest goes through net/url.
func parseMulti(raw string) (target, error) {
	var t target
	rest := ""
	switch {
	case strings.HasPrefix(raw, schemeSentinel):
		t.kind, rest = "sentinel", raw[len(schemeSentinel):]
	case strings.HasPrefix(raw, schemeSentinelTLS):
		t.kind, t.tls, rest = "sentinel", true, raw[len(schemeSentinelTLS):]
	case strings.HasPrefix(raw, schemeCluster):
		t.kind, rest = "cluster", raw[len(schemeCluster):]
	case strings.HasPrefix(raw, schemeClusterTLS):
		t.kind, t.tls, rest = "cluster", true, raw[len(schemeClusterTLS):]
	default:
		return t, fmt.Errorf("%w: unknown scheme", errURL)
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		info := authority[:at]
		authority = authority[at+1:]
		user, pass, _ := strings.Cut(info, ":")
		var err error
		if t.username, err = neturl.PathUnescape(user); err != nil {
			return t, fmt.Errorf("%w: user name: not URL-escaped", errURL)
		}
		if t.password, err = neturl.PathUnescape(pass); err != nil {
			return t, fmt.Errorf("%w: password: not URL-escaped", errURL)
		}
	}
	for a := range strings.SplitSeq(authority, ",") {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return t, fmt.Errorf("%w: %q: want HOST:PORT", errURL, a)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return t, fmt.Errorf("%w: %q: bad port", errURL, a)
		}
		t.addrs = append(t.addrs, a)
	}
	u, err := neturl.Parse("x://h" + tail)
	if err != nil {
		return t, fmt.Errorf("%w: %v", errURL, err)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if t.kind == "cluster" {
			return t, fmt.Errorf("%w: a cluster has only database 0; drop the path %q", errURL, u.Path)
		}
		if t.db, err = strconv.Atoi(p); err != nil || t.db < 0 {
			return t, fmt.Errorf("%w: database %q: want a number", errURL, p)
		}
	}
	q := u.Query()
	for k := range q {
		switch {
		case t.kind == "sentinel" && (k == "master" || k == "sentinel_password"):
		default:
			return t, fmt.Errorf("%w: unknown parameter %q", errURL, k)
		}
	}
	if t.kind == "sentinel" {
		t.master = q.Get("master")
		t.sentinelPassword = q.Get("sentinel_password")
		if t.master == "" {
			return t, fmt.Errorf("%w: a Sentinel URL needs ?master=NAME", errURL)
		}
	}
	return t, nil
}

// tlsConfig is the TLS setting for a target: nil without TLS.
func (t target) tlsConfig() *tls.Config {
	if !t.tls {
		return nil
	}
	host, _, _ := net.SplitHostPort(t.addrs[0])
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

// Redact hides the passwords of a store URL, for logs and messages; a URL that does not
// parse is replaced whole, since its password cannot be found.
func Redact(raw string) string { return redact(raw) }

func redact(raw string) string {
	if t, err := parseMulti(raw); err == nil {
		scheme, _, _ := strings.Cut(raw, "://")
		s := scheme + "://"
		if t.username != "" || t.password != "" {
			s += t.username + ":xxxxx@"
		}
		s += strings.Join(t.addrs, ",")
		if t.kind == "sentinel" {
			s += fmt.Sprintf("/%d?master=%s", t.db, neturl.QueryEscape(t.master))
			if t.sentinelPassword != "" {
				s += "&sentinel_password=xxxxx"
			}
		}
		return s
	}
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// scrub removes the password of raw from msg: the URL parser's messages may quote the URL.
func scrub(msg, raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "not a URL"
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}
