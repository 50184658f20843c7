package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultAlg is the algorithm used when none is configured, as in Mercure.
const DefaultAlg = "HS256"

// MinRSABits is the smallest RSA modulus accepted, in bits.
const MinRSABits = 2048

type family uint8

const (
	familyHMAC family = iota
	familyRSA
	familyECDSA
	familyEdDSA
)

type algorithm struct {
	name   string
	method jwt.SigningMethod
	family family
	curve  elliptic.Curve // for ECDSA
}

var algorithms = []algorithm{
	{"HS256", jwt.SigningMethodHS256, familyHMAC, nil},
	{"HS384", jwt.SigningMethodHS384, familyHMAC, nil},
	{"HS512", jwt.SigningMethodHS512, familyHMAC, nil},
	{"RS256", jwt.SigningMethodRS256, familyRSA, nil},
	{"RS384", jwt.SigningMethodRS384, familyRSA, nil},
	{"RS512", jwt.SigningMethodRS512, familyRSA, nil},
	{"PS256", jwt.SigningMethodPS256, familyRSA, nil},
	{"PS384", jwt.SigningMethodPS384, familyRSA, nil},
	{"PS512", jwt.SigningMethodPS512, familyRSA, nil},
	{"ES256", jwt.SigningMethodES256, familyECDSA, elliptic.P256()},
	{"ES384", jwt.SigningMethodES384, familyECDSA, elliptic.P384()},
	{"ES512", jwt.SigningMethodES512, familyECDSA, elliptic.P521()},
	{"EdDSA", jwt.SigningMethodEdDSA, familyEdDSA, nil},
}

// Algorithms returns the names of the supported algorithms.
func Algorithms() []string {
	names := make([]string, len(algorithms))
	for i, a := range algorithms {
		names[i] = a.name
	}
	return names
}

func lookup(name string) (algorithm, error) {
	if name == "" {
		name = DefaultAlg
	}
	for _, a := range algorithms {
		if a.name == name {
			return a, nil
		}
	}
	// NOTE: "none" is deliberately absent: a hub must never accept unsigned tokens.
	return algorithm{}, fmt.Errorf("%w %q (supported: %s)", ErrUnsupportedAlg, name, strings.Join(Algorithms(), ", "))
}

// IsHMAC reports whether alg (DefaultAlg when empty) is one of the HS algorithms, whose key
// is a shared secret rather than a PEM key.
func IsHMAC(alg string) bool {
	a, err := lookup(alg)
	return err == nil && a.family == familyHMAC
}

// secretKey is the key of HMAC algorithm a, for signing and verifying alike: a copy of the
// secret, once checkSecret accepts it.
func secretKey(a algorithm, secret []byte) (any, error) {
	if err := checkSecret(a, secret); err != nil {
		return nil, err
	}
	return bytes.Clone(secret), nil
}

func checkSecret(a algorithm, secret []byte) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty %s secret", ErrInvalidKey, a.name)
	}
	// A PEM key used as an HMAC secret is the classic algorithm-confusion setup: the public
	// key is public, so anyone could sign tokens with it.
	if bytes.HasPrefix(bytes.TrimSpace(secret), []byte("-----BEGIN")) {
		return fmt.Errorf("%w: the %s secret is a PEM key; configure an RS, PS, ES or EdDSA algorithm to use it", ErrInvalidKey, a.name)
	}
	return nil
}

// publicKey reads the verification key of algorithm a: the secret itself for HMAC, a PEM
// public key (PKIX, PKCS #1 or certificate for RSA) for the others.
func publicKey(a algorithm, key []byte) (any, error) {
	switch a.family {
	case familyHMAC:
		return secretKey(a, key)
	case familyRSA:
		k, err := jwt.ParseRSAPublicKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM RSA public key: %v", ErrInvalidKey, a.name, err)
		}
		return k, checkRSA(a, k)
	case familyECDSA:
		k, err := jwt.ParseECPublicKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM ECDSA public key: %v", ErrInvalidKey, a.name, err)
		}
		return k, checkCurve(a, k)
	default:
		k, err := jwt.ParseEdPublicKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM Ed25519 public key: %v", ErrInvalidKey, a.name, err)
		}
		return k, nil
	}
}

// privateKey reads the signing key of algorithm a: the secret for HMAC, a PEM private key
// (PKCS #8, PKCS #1 for RSA, SEC 1 for ECDSA) for the others.
func privateKey(a algorithm, key []byte) (any, error) {
	switch a.family {
	case familyHMAC:
		return secretKey(a, key)
	case familyRSA:
		k, err := jwt.ParseRSAPrivateKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM RSA private key: %v", ErrInvalidKey, a.name, err)
		}
		return k, checkRSA(a, &k.PublicKey)
	case familyECDSA:
		k, err := jwt.ParseECPrivateKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM ECDSA private key: %v", ErrInvalidKey, a.name, err)
		}
		return k, checkCurve(a, &k.PublicKey)
	default:
		k, err := jwt.ParseEdPrivateKeyFromPEM(key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s needs a PEM Ed25519 private key: %v", ErrInvalidKey, a.name, err)
		}
		if _, ok := k.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("%w: %s needs an Ed25519 key", ErrInvalidKey, a.name)
		}
		return k, nil
	}
}

func checkRSA(a algorithm, k *rsa.PublicKey) error {
	if bits := k.N.BitLen(); bits < MinRSABits {
		return fmt.Errorf("%w: %s key has %d bits, at least %d needed", ErrInvalidKey, a.name, bits, MinRSABits)
	}
	return nil
}

func checkCurve(a algorithm, k *ecdsa.PublicKey) error {
	if k.Curve != a.curve {
		return fmt.Errorf("%w: %s needs a key on %s, not %s", ErrInvalidKey, a.name, a.curve.Params().Name, k.Curve.Params().Name)
	}
	return nil
}
