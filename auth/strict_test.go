package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/heraldsse/herald/auth"
)

// signHand signs a header and claims given as raw JSON text, as a hostile issuer could.
func signHand(key []byte, header, claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64([]byte(header)) + "." + b64([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// Tokens whose meaning a signature does not settle are refused: extensions this package
// does not implement, and names that appear twice (readers disagree on which one counts).
func TestVerifyRefusesAmbiguousTokens(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, "HS256", secret)
	const header = `{"alg":"HS256","typ":"JWT"}`
	if _, err := v.Verify(signHand(secret, header, `{"mercure":{"publish":["*"]}}`)); err != nil {
		t.Fatalf("a plain hand-signed token: %v", err)
	}
	tests := map[string]string{
		"crit header":               signHand(secret, `{"alg":"HS256","typ":"JWT","crit":["exp"]}`, `{"mercure":{"publish":["*"]}}`),
		"b64 false":                 signHand(secret, `{"alg":"HS256","b64":false,"crit":["b64"]}`, `{"mercure":{"publish":["*"]}}`),
		"b64 without crit":          signHand(secret, `{"alg":"HS256","b64":false}`, `{"mercure":{"publish":["*"]}}`),
		"mercure twice":             signHand(secret, header, `{"mercure":{"publish":[]},"mercure":{"publish":["*"]}}`),
		"publish twice":             signHand(secret, header, `{"mercure":{"publish":[],"publish":["*"]}}`),
		"exp twice":                 signHand(secret, header, `{"exp":1,"exp":99999999999,"mercure":{"publish":["*"]}}`),
		"alg twice in the header":   signHand(secret, `{"alg":"none","alg":"HS256"}`, `{"mercure":{"publish":["*"]}}`),
		"twice deep in the payload": signHand(secret, header, `{"mercure":{"publish":["*"],"payload":{"a":[{"b":1,"b":2}]}}}`),
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := v.Verify(tok)
			if !errors.Is(err, auth.ErrInvalidToken) || c != nil {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
			}
		})
	}
}
