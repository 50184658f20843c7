// Package auth checks the JSON Web Tokens of a Mercure hub's publishers and subscribers and
// decides what they may do, following draft-dunglas-mercure-07 ("Authorization").
//
// A token is a JWS whose "mercure" claim lists the topic selectors its bearer may publish
// to and the selectors of the private updates it may receive:
//
//	{"mercure": {"publish": ["https://example.com/books/{id}"], "subscribe": ["*"], "payload": {"user": "kevin"}}}
//
// A [Verifier] accepts only tokens signed with its one configured algorithm and key (HS256 by
// default; RS*, PS*, ES* and EdDSA with a PEM public key), so "alg: none" and algorithm
// confusion are refused. A hub has two, one for publishers and one for subscribers, which
// may share a key:
//
//	pub, err := auth.NewVerifier("HS256", secret)
//	...
//	claims, src, err := pub.VerifyRequest(r) // Authorization header, then query, then cookie
//	if err != nil {
//		// 401; never log the token
//	}
//	if !auth.CanPublish(claims, topics) {
//		// 403
//	}
//
// A [Signer] (or [Mint]) makes tokens, for the command line, for tests and for the token a
// hub prints on its first run. Errors never contain token text: tokens are credentials and
// must never reach a log.
package auth
