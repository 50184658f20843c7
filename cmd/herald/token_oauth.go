package main

import (
	"encoding/json"
	"errors"
	"flag"
	"time"

	"github.com/heraldsse/herald/auth"
)

// oauthFlags are herald token's flags for Mercure 1.0 access tokens.
type oauthFlags struct {
	on                     bool
	issuer                 string
	audience               repeatedFlag
	pubPattern, subPattern repeatedFlag
}

func addOAuthFlags(fs *flag.FlagSet, o *oauthFlags) {
	fs.BoolVar(&o.on, "oauth", false, "mint a Mercure 1.0 access token (typ at+jwt, iss, aud, authorization_details) instead of a 0.x token; --publish and --subscribe are then exact matches (or *)")
	fs.StringVar(&o.issuer, "issuer", "", "with --oauth: the token's issuer (`URL`), one the hub trusts (herald serve --issuer)")
	fs.Var(&o.audience, "audience", "with --oauth: the hub's resource identifier (`URL`, such as https://example.com/.well-known/mercure); repeatable")
	fs.Var(&o.pubPattern, "publish-urlpattern", "with --oauth: URL `pattern` of topics the bearer may publish to; repeatable")
	fs.Var(&o.subPattern, "subscribe-urlpattern", "with --oauth: URL `pattern` of private updates the bearer may receive; repeatable")
}

// grantsGiven reports whether the 1.0 flags grant anything.
func (o *oauthFlags) grantsGiven() bool { return len(o.pubPattern) > 0 || len(o.subPattern) > 0 }

// mintOAuth signs the access token herald token --oauth prints.
func mintOAuth(o *oauthFlags, key []byte, alg string, publish, subscribe []string, payload json.RawMessage, subject string, ttl time.Duration) (string, error) {
	switch {
	case o.issuer == "":
		return "", errors.New("--oauth needs --issuer")
	case len(o.audience) == 0:
		return "", errors.New("--oauth needs --audience (the hub's URL)")
	case ttl <= 0:
		return "", errors.New("--oauth tokens must expire: give --exp a positive duration")
	case len(payload) > 0 && (!json.Valid(payload) || payload[0] != '{'):
		return "", errors.New("--payload must be a JSON object in an access token")
	}
	topics := func(exact, patterns []string) []auth.TopicGrant {
		var out []auth.TopicGrant
		for _, m := range exact {
			out = append(out, auth.TopicGrant{Match: m})
		}
		for _, m := range patterns {
			out = append(out, auth.TopicGrant{Match: m, MatchType: auth.MatchURLPattern})
		}
		return out
	}
	var grants []auth.AccessGrant
	if t := topics(publish, o.pubPattern); len(t) > 0 {
		grants = append(grants, auth.AccessGrant{Actions: []string{auth.ActionPublish}, Topics: t})
	}
	if t := topics(subscribe, o.subPattern); len(t) > 0 {
		grants = append(grants, auth.AccessGrant{Actions: []string{auth.ActionSubscribe}, Topics: t, Payload: payload})
	}
	return auth.MintAccess(key, alg, auth.AccessClaims{Issuer: o.issuer, Audience: o.audience, Subject: subject, Grants: grants}, ttl)
}

// mintPublisherToken mints the short-lived token herald publish sends when given a key: a
// 1.0 access token granting publish on exactly topics when issuer is set (its audience is
// audience, else the hub URL), else a 0.x token.
func mintPublisherToken(key []byte, issuer, audience, hub string, topics []string) (string, error) {
	if issuer == "" {
		return auth.Mint(key, "HS256", auth.Claims{Publish: topics}, 5*time.Minute)
	}
	if audience == "" {
		audience = hub
	}
	grant := auth.AccessGrant{Actions: []string{auth.ActionPublish}}
	for _, t := range topics {
		grant.Topics = append(grant.Topics, auth.TopicGrant{Match: t})
	}
	return auth.MintAccess(key, "HS256", auth.AccessClaims{Issuer: issuer, Audience: []string{audience}, Grants: []auth.AccessGrant{grant}}, 5*time.Minute)
}
