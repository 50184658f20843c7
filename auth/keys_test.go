package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
)

// pemPair is a key pair PEM-encoded the way users hand them to Herald: PKCS #8 private key,
// PKIX public key.
type pemPair struct{ private, public []byte }

func encodePair(t testing.TB, priv any, pub any) pemPair {
	t.Helper()
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemPair{
		private: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		public:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}),
	}
}

// RSA key generation is slow, so each test binary makes its keys once.
var (
	rsaOnce         sync.Once
	rsaKey, rsaKey2 *rsa.PrivateKey
)

func rsaKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaKey2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey, rsaKey2
}

func rsaPair(t testing.TB) pemPair {
	k, _ := rsaKeys(t)
	return encodePair(t, k, &k.PublicKey)
}

func otherRSAPair(t testing.TB) pemPair {
	_, k := rsaKeys(t)
	return encodePair(t, k, &k.PublicKey)
}

func ecPair(t testing.TB, c elliptic.Curve) pemPair {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return encodePair(t, k, &k.PublicKey)
}

func edPair(t testing.TB) pemPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return encodePair(t, priv, pub)
}
