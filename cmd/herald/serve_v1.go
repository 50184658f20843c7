package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/mercure"
)

// v1Flags are herald serve's flags for the Mercure 1.0 generation and for JWK Sets.
type v1Flags struct {
	issuers, issuerKeys, issuerJWKS repeatedFlag
	resource, protocol              string
	pubJWKS, subJWKS                string
	cookieName                      string
}

// addV1Flags adds the 1.0 flags to fs.
func addV1Flags(fs *flag.FlagSet, f *v1Flags) {
	fs.Var(&f.issuers, "issuer", "trusted issuer of Mercure 1.0 access tokens (their iss), repeatable; verified with the hub's publisher and subscriber keys unless bound by --issuer-key or --issuer-jwks")
	fs.Var(&f.issuerKeys, "issuer-key", "ISSUER=KEY: verify ISSUER's access tokens with KEY (an HMAC secret, or a PEM public key or @FILE for --jwt-alg), for publishers and subscribers; repeatable; implies --issuer ISSUER")
	fs.Var(&f.issuerJWKS, "issuer-jwks", "ISSUER=URL: verify ISSUER's access tokens with the keys of the JWK Set at URL; repeatable; implies --issuer ISSUER")
	fs.StringVar(&f.resource, "resource", "", "the hub's resource identifier (its public URL, such as https://example.com/.well-known/mercure): the aud access tokens must hold, and the base of URL patterns (default: derived from each request's scheme, host and path)")
	fs.StringVar(&f.pubJWKS, "publisher-jwks-url", "", "verify publisher tokens (0.x) with the keys of the JWK Set at this URL instead of --publisher-jwt-key")
	fs.StringVar(&f.subJWKS, "subscriber-jwks-url", "", "verify subscriber tokens (0.x) with the keys of the JWK Set at this URL instead of --subscriber-jwt-key")
	fs.StringVar(&f.cookieName, "cookie-name", mercure.DefaultCookieName, "cookie that carries a Mercure 1.0 access token for browsers (HTTPS only with the __Secure- prefix)")
	fs.StringVar(&f.protocol, "protocol", "both", "Mercure generations served: 0 (topic=, the mercure claim), 1 (match=, access tokens) or both")
}

// v1Setup is what serve builds from v1Flags.
type v1Setup struct {
	cfg      mercure.V1Config
	pub, sub *auth.Verifier // replacements of the 0.x verifiers, when a JWKS URL is given
	jwks     []*auth.JWKS
}

func (s *v1Setup) close() {
	for _, j := range s.jwks {
		j.Close()
	}
}

// setupV1 reads the 1.0 flags. pubKey and subKey are the hub's own keys (the flag values,
// else the shared secret), with which an issuer given alone is verified.
func setupV1(f *v1Flags, alg, pubKey, subKey string, logger *slog.Logger) (*v1Setup, error) {
	s := &v1Setup{}
	var err error
	if s.cfg.Protocol, err = mercure.ParseProtocol(f.protocol); err != nil {
		return nil, fmt.Errorf("--protocol: %v", err)
	}
	if f.cookieName == "" || strings.ContainsAny(f.cookieName, "()<>@,;:\\\"/[]?={} \t") {
		return nil, fmt.Errorf("--cookie-name %q: not a cookie name", f.cookieName)
	}
	s.cfg.CookieName = f.cookieName
	if f.resource != "" {
		u, err := url.Parse(f.resource)
		if err != nil || !u.IsAbs() || u.Host == "" {
			s.close()
			return nil, fmt.Errorf("--resource %q: want an absolute URL such as https://example.com/.well-known/mercure", f.resource)
		}
		s.cfg.HubURL = f.resource
	}
	newJWKS := func(flagName, u string) (*auth.JWKS, error) {
		j, err := auth.NewJWKS(u, auth.JWKSOptions{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", flagName, err)
		}
		s.jwks = append(s.jwks, j)
		return j, nil
	}
	if f.pubJWKS != "" {
		j, err := newJWKS("--publisher-jwks-url", f.pubJWKS)
		if err != nil {
			return nil, err
		}
		s.pub = auth.NewJWKSVerifier(j)
	}
	if f.subJWKS != "" {
		j, err := newJWKS("--subscriber-jwks-url", f.subJWKS)
		if err != nil {
			s.close()
			return nil, err
		}
		s.sub = auth.NewJWKSVerifier(j)
	}

	// Each issuer once, in the order given: bound ones with their key, the others with
	// the hub's own keys.
	var order []string
	bound := map[string]auth.Issuer{}
	seen := map[string]bool{}
	add := func(iss string) {
		if !seen[iss] {
			seen[iss] = true
			order = append(order, iss)
		}
	}
	for _, iss := range f.issuers {
		add(iss)
	}
	for _, kv := range f.issuerKeys {
		iss, key, ok := strings.Cut(kv, "=")
		if !ok || iss == "" || key == "" {
			s.close()
			return nil, fmt.Errorf("--issuer-key %q: want ISSUER=KEY", redactKey(kv))
		}
		if strings.HasPrefix(key, "@") {
			b, err := os.ReadFile(key[1:])
			if err != nil {
				s.close()
				return nil, fmt.Errorf("--issuer-key %s: %v", iss, err)
			}
			key = string(b)
		}
		bound[iss] = auth.Issuer{URL: iss, Alg: alg, Key: []byte(key)}
		add(iss)
	}
	for _, kv := range f.issuerJWKS {
		iss, u, ok := strings.Cut(kv, "=")
		if !ok || iss == "" || u == "" {
			s.close()
			return nil, fmt.Errorf("--issuer-jwks %q: want ISSUER=URL", kv)
		}
		if _, dup := bound[iss]; dup {
			s.close()
			return nil, fmt.Errorf("--issuer-jwks %s: the issuer is already bound by --issuer-key", iss)
		}
		j, err := newJWKS("--issuer-jwks", u)
		if err != nil {
			s.close()
			return nil, err
		}
		bound[iss] = auth.Issuer{URL: iss, JWKS: j}
		add(iss)
	}
	if len(order) == 0 {
		return s, nil
	}
	var pubIssuers, subIssuers []auth.Issuer
	for _, iss := range order {
		if b, ok := bound[iss]; ok {
			pubIssuers, subIssuers = append(pubIssuers, b), append(subIssuers, b)
			continue
		}
		pubIssuers = append(pubIssuers, auth.Issuer{URL: iss, Alg: alg, Key: []byte(pubKey)})
		subIssuers = append(subIssuers, auth.Issuer{URL: iss, Alg: alg, Key: []byte(subKey)})
	}
	if s.cfg.Publisher, err = auth.NewAccessVerifier(pubIssuers...); err != nil {
		s.close()
		return nil, fmt.Errorf("--issuer: %v", err)
	}
	if s.cfg.Subscriber, err = auth.NewAccessVerifier(subIssuers...); err != nil {
		s.close()
		return nil, fmt.Errorf("--issuer: %v", err)
	}
	return s, nil
}

// redactKey keeps a secret out of an error message.
func redactKey(kv string) string {
	iss, _, _ := strings.Cut(kv, "=")
	return iss + "=…"
}

// readKeyFlag returns a key flag's value (reading @FILE), or the shared secret when empty.
func readKeyFlag(key, secret string) (string, error) {
	if key == "" {
		return secret, nil
	}
	if strings.HasPrefix(key, "@") {
		b, err := os.ReadFile(key[1:])
		return string(b), err
	}
	return key, nil
}

// setupV1Keys is setupV1 with the hub's own keys read from c.
func setupV1Keys(c *serveConfig, secret string, logger *slog.Logger) (*v1Setup, error) {
	pub, err := readKeyFlag(c.pubKey, secret)
	if err != nil {
		return nil, fmt.Errorf("publisher key: %v", err)
	}
	sub, err := readKeyFlag(c.subKey, secret)
	if err != nil {
		return nil, fmt.Errorf("subscriber key: %v", err)
	}
	return setupV1(&c.v1, c.jwtAlg, pub, sub, logger)
}
