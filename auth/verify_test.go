package auth_test

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/heraldsse/herald/auth"
)

var secret = []byte("!ChangeThisMercureHubJWTSecretKey!")

func mustVerifier(t testing.TB, alg string, key []byte) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(alg, key)
	if err != nil {
		t.Fatalf("NewVerifier(%s): %v", alg, err)
	}
	return v
}

func mustMint(t testing.TB, key []byte, alg string, c auth.Claims, ttl time.Duration) string {
	t.Helper()
	token, err := auth.Mint(key, alg, c, ttl)
	if err != nil {
		t.Fatalf("Mint(%s): %v", alg, err)
	}
	return token
}

// signRaw signs arbitrary claims with the library directly, to build tokens auth.Mint
// would never make.
func signRaw(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	token, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestVerifyEveryAlgorithm(t *testing.T) {
	t.Parallel()
	rsaKeys := rsaPair(t)
	tests := []struct {
		alg         string
		sign, check []byte
	}{
		{"", secret, secret},
		{"HS256", secret, secret},
		{"HS384", secret, secret},
		{"HS512", secret, secret},
		{"RS256", rsaKeys.private, rsaKeys.public},
		{"RS384", rsaKeys.private, rsaKeys.public},
		{"RS512", rsaKeys.private, rsaKeys.public},
		{"PS256", rsaKeys.private, rsaKeys.public},
		{"PS384", rsaKeys.private, rsaKeys.public},
		{"PS512", rsaKeys.private, rsaKeys.public},
	}
	for _, c := range []struct {
		alg   string
		curve elliptic.Curve
	}{{"ES256", elliptic.P256()}, {"ES384", elliptic.P384()}, {"ES512", elliptic.P521()}} {
		p := ecPair(t, c.curve)
		tests = append(tests, struct {
			alg         string
			sign, check []byte
		}{c.alg, p.private, p.public})
	}
	ed := edPair(t)
	tests = append(tests, struct {
		alg         string
		sign, check []byte
	}{"EdDSA", ed.private, ed.public})

	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			want := auth.Claims{
				Publish:   []string{"https://example.com/books/{id}"},
				Subscribe: []string{"https://example.com/users/kevin", "*"},
				Payload:   json.RawMessage(`{"user":"https://example.com/users/kevin"}`),
				Subject:   "kevin",
			}
			token := mustMint(t, tt.sign, tt.alg, want, time.Hour)
			v := mustVerifier(t, tt.alg, tt.check)
			got, err := v.Verify(token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !slices.Equal(got.Publish, want.Publish) || !slices.Equal(got.Subscribe, want.Subscribe) ||
				string(got.Payload) != string(want.Payload) || got.Subject != want.Subject {
				t.Errorf("claims = %+v, want %+v", got, want)
			}
			if d := time.Until(got.ExpiresAt); d < 59*time.Minute || d > time.Hour {
				t.Errorf("ExpiresAt is %v from now, want about an hour", d)
			}
			if !auth.CanPublish(got, []string{"https://example.com/books/1"}) || !auth.CanReceive(got, []string{"anything"}) {
				t.Error("the verified claims do not grant what they say")
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	rsaKeys, otherRSA := rsaPair(t), otherRSAPair(t)
	p256, p256other, p384 := ecPair(t, elliptic.P256()), ecPair(t, elliptic.P256()), ecPair(t, elliptic.P384())
	hs := mustVerifier(t, "HS256", secret)
	rs := mustVerifier(t, "RS256", rsaKeys.public)
	es := mustVerifier(t, "ES256", p256.public)
	rights := jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}, "subscribe": []string{"*"}}}
	valid := mustMint(t, secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		v     *auth.Verifier
		token string
		want  error
	}{
		{"alg none", hs, signRaw(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, rights), auth.ErrInvalidToken},
		{"alg none, hand-made", hs, b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", auth.ErrInvalidToken},
		{"alg None", hs, b64([]byte(`{"alg":"None","typ":"JWT"}`)) + "." + parts[1] + ".", auth.ErrInvalidToken},
		{"wrong secret", hs, mustMint(t, []byte("another secret"), "HS256", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"other HMAC algorithm, same secret", hs, mustMint(t, secret, "HS512", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"expired", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": time.Now().Add(-time.Minute).Unix()}), auth.ErrExpired},
		{"not valid yet", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"nbf": time.Now().Add(time.Minute).Unix()}), auth.ErrNotYetValid},
		{"exp not a number", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": "tomorrow"}), auth.ErrInvalidToken},
		{"tampered claims", hs, parts[0] + "." + b64([]byte(`{"mercure":{"publish":["*"],"subscribe":["*"]}}`)) + "." + parts[2], auth.ErrInvalidToken},
		{"signature removed", hs, parts[0] + "." + parts[1] + ".", auth.ErrInvalidToken},
		// Key confusion: an HS256 token whose secret is the hub's RSA public key, which
		// anyone can know. The RS256 verifier must not treat it as HMAC.
		{"RS key used as HMAC secret", rs, signRaw(t, jwt.SigningMethodHS256, rsaKeys.public, rights), auth.ErrInvalidToken},
		{"RS wrong key", rs, mustMint(t, otherRSA.private, "RS256", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"RS384 for RS256", rs, mustMint(t, rsaKeys.private, "RS384", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"PS256 for RS256", rs, mustMint(t, rsaKeys.private, "PS256", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"ES wrong key", es, mustMint(t, p256other.private, "ES256", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"ES wrong curve", es, mustMint(t, p384.private, "ES384", auth.Claims{Publish: []string{"*"}}, 0), auth.ErrInvalidToken},
		{"ES key used as HMAC secret", es, signRaw(t, jwt.SigningMethodHS256, p256.public, rights), auth.ErrInvalidToken},
		{"publish not a list", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"mercure": map[string]any{"publish": "*"}}), auth.ErrInvalidToken},
		{"publish holds a number", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"mercure": map[string]any{"publish": []any{"a", 1}}}), auth.ErrInvalidToken},
		{"mercure not an object", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"mercure": "everything"}), auth.ErrInvalidToken},
		{"too many selectors", hs, signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"mercure": map[string]any{"subscribe": make([]string, auth.MaxSelectors+1)}}), auth.ErrInvalidToken},
		{"garbage", hs, "garbage", auth.ErrInvalidToken},
		{"three garbage parts", hs, "a.b.c", auth.ErrInvalidToken},
		{"header not JSON", hs, b64([]byte("{")) + "." + parts[1] + "." + parts[2], auth.ErrInvalidToken},
		{"too long", hs, strings.Repeat("a", auth.MaxTokenLen+1), auth.ErrInvalidToken},
		{"empty", hs, "", auth.ErrNoToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.v.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
			}
			if c != nil {
				t.Errorf("claims returned with an error: %+v", c)
			}
			if tt.want != auth.ErrNoToken && !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("%v does not match ErrInvalidToken", err)
			}
			if !strings.HasPrefix(err.Error(), "auth: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			for _, part := range strings.Split(tt.token, ".") {
				if len(part) >= 8 && strings.Contains(err.Error(), part) {
					t.Errorf("error %q contains token text", err)
				}
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, "", secret)
	// A token that expired a moment ago is still accepted: clocks differ a little.
	justExpired := signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": time.Now().Add(-auth.Leeway / 2).Unix()})
	if _, err := v.Verify(justExpired); err != nil {
		t.Errorf("token expired within the leeway: %v", err)
	}
	almostValid := signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"nbf": time.Now().Add(auth.Leeway / 2).Unix()})
	if _, err := v.Verify(almostValid); err != nil {
		t.Errorf("token valid within the leeway: %v", err)
	}
	pastLeeway := signRaw(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": time.Now().Add(-2 * auth.Leeway).Unix()})
	if _, err := v.Verify(pastLeeway); !errors.Is(err, auth.ErrExpired) {
		t.Errorf("token expired past the leeway: %v", err)
	}
}

func TestVerifyNoMercureClaim(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, "HS256", secret)
	for _, claims := range []jwt.MapClaims{
		{},
		{"sub": "kevin"},
		{"mercure": nil},
		{"mercure": map[string]any{}},
		{"mercure": map[string]any{"publish": []string{}, "subscribe": []string{}, "payload": nil}},
	} {
		c, err := v.Verify(signRaw(t, jwt.SigningMethodHS256, secret, claims))
		if err != nil {
			t.Fatalf("%v: %v", claims, err)
		}
		if auth.CanPublish(c, []string{"https://example.com/a"}) || auth.CanReceive(c, []string{"https://example.com/a"}) || c.Payload != nil {
			t.Errorf("%v grants rights: %+v", claims, c)
		}
		if !c.ExpiresAt.IsZero() {
			t.Errorf("%v: ExpiresAt = %v, want zero", claims, c.ExpiresAt)
		}
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, "HS256", secret)
	token := mustMint(t, secret, "HS256", auth.Claims{Subscribe: []string{"https://example.com/{id}"}}, time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, err := v.Verify(token)
				if err != nil || !auth.CanReceive(c, []string{"https://example.com/1"}) {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestNewVerifierRefusesBadKeys(t *testing.T) {
	t.Parallel()
	rsaKeys := rsaPair(t)
	p384 := ecPair(t, elliptic.P384())
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPair := encodePair(t, small, &small.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})
	if _, err := auth.NewVerifier("RS256", pkcs1); err != nil {
		t.Errorf("a PKCS #1 RSA public key is refused: %v", err)
	}
	tests := []struct {
		name string
		alg  string
		key  []byte
		want error
	}{
		{"none", "none", nil, auth.ErrUnsupportedAlg},
		{"lower case", "hs256", secret, auth.ErrUnsupportedAlg},
		{"unknown", "HS1", secret, auth.ErrUnsupportedAlg},
		{"empty secret", "HS256", nil, auth.ErrInvalidKey},
		{"PEM as HMAC secret", "HS256", rsaKeys.public, auth.ErrInvalidKey},
		{"RSA too small", "RS256", smallPair.public, auth.ErrInvalidKey},
		{"RSA private key", "RS256", rsaKeys.private, auth.ErrInvalidKey},
		{"EC key for RS", "RS256", p384.public, auth.ErrInvalidKey},
		{"P-384 key for ES256", "ES256", p384.public, auth.ErrInvalidKey},
		{"RSA key for ES256", "ES256", rsaKeys.public, auth.ErrInvalidKey},
		{"garbage PEM", "ES256", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), auth.ErrInvalidKey},
		{"not PEM", "EdDSA", []byte("ed25519"), auth.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if v, err := auth.NewVerifier(tt.alg, tt.key); !errors.Is(err, tt.want) {
				t.Errorf("NewVerifier = %v, %v; want %v", v, err, tt.want)
			}
		})
	}
}

func TestNewSignerRefusesBadKeys(t *testing.T) {
	t.Parallel()
	rsaKeys := rsaPair(t)
	p384 := ecPair(t, elliptic.P384())
	for _, tt := range []struct {
		name, alg string
		key       []byte
		want      error
	}{
		{"none", "none", nil, auth.ErrUnsupportedAlg},
		{"empty secret", "HS256", nil, auth.ErrInvalidKey},
		{"public key", "RS256", rsaKeys.public, auth.ErrInvalidKey},
		{"wrong curve", "ES256", p384.private, auth.ErrInvalidKey},
		{"RSA key for EdDSA", "EdDSA", rsaKeys.private, auth.ErrInvalidKey},
	} {
		if s, err := auth.NewSigner(tt.alg, tt.key); !errors.Is(err, tt.want) {
			t.Errorf("%s: NewSigner = %v, %v; want %v", tt.name, s, err, tt.want)
		}
	}
	if _, err := auth.Mint(secret, "HS256", auth.Claims{Payload: json.RawMessage("{")}, 0); err == nil {
		t.Error("Mint accepted a payload that is not JSON")
	}
	if _, err := auth.Mint(secret, "HS256", auth.Claims{}, -time.Second); err == nil {
		t.Error("Mint accepted a negative lifetime")
	}
}

func TestMintWithoutExpiry(t *testing.T) {
	t.Parallel()
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	v := mustVerifier(t, "HS256", secret)
	for _, tt := range []struct {
		name string
		c    auth.Claims
		ttl  time.Duration
		want time.Time
	}{
		{"never", auth.Claims{Publish: []string{"*"}}, 0, time.Time{}},
		{"claims' own time", auth.Claims{Publish: []string{"*"}, ExpiresAt: at}, 0, at},
	} {
		c, err := v.Verify(mustMint(t, secret, "HS256", tt.c, tt.ttl))
		if err != nil {
			t.Fatal(err)
		}
		if !c.ExpiresAt.Equal(tt.want) {
			t.Errorf("%s: ExpiresAt = %v, want %v", tt.name, c.ExpiresAt, tt.want)
		}
	}
}
