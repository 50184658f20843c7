package mercure

import (
	"encoding/base64"
	"testing"
)

// TestIsAccessTokenRemembersOnlyPlainPublisherTokens checks that the remembered answer
// for the last 0.x publisher token never answers for another token: an access token sent
// after it, or between two sends of it, is still routed to the 1.0 verifier.
func TestIsAccessTokenRemembersOnlyPlainPublisherTokens(t *testing.T) {
	t.Parallel()
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	plain := seg(`{"alg":"HS256","typ":"JWT"}`) + "." + seg(`{"mercure":{"publish":["*"]}}`) + ".sig"
	access := seg(`{"alg":"HS256","typ":"at+jwt"}`) + "." + seg(`{"sub":"s"}`) + ".sig"
	plain2 := seg(`{"alg":"HS256"}`) + "." + seg(`{"sub":"t"}`) + ".sig"
	var h Handler
	for i, c := range []struct {
		token     string
		publisher bool
		want      bool
	}{
		{plain, true, false},
		{plain, true, false},
		{access, true, true},
		{plain, true, false},
		{access, false, true},
		{plain2, true, false},
		{access, true, true},
		{plain, false, false},
	} {
		if got := h.isAccessToken(c.token, c.publisher); got != c.want {
			t.Fatalf("call %d: isAccessToken %v, want %v", i, got, c.want)
		}
	}
}
