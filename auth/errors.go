package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

var (
	// ErrNoToken means the request carried no token at all. For a subscriber this is an
	// anonymous connection; for a publisher it is a 401.
	ErrNoToken = errors.New("auth: no token")
	// ErrInvalidToken means a token was presented but is not acceptable: malformed, signed
	// with another algorithm or key, expired, not valid yet, or with a malformed "mercure"
	// claim. Every error from Verify matches it, including ErrExpired and ErrNotYetValid.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrExpired means the token's "exp" time has passed.
	ErrExpired = errors.New("auth: token expired")
	// ErrNotYetValid means the token's "nbf" time has not come yet.
	ErrNotYetValid = errors.New("auth: token not valid yet")
	// ErrMalformedHeader means the Authorization header is present but is not exactly one
	// "Bearer <token>". The other sources are then not consulted.
	ErrMalformedHeader = errors.New("auth: malformed Authorization header")
	// ErrUnsupportedAlg means the algorithm named in a configuration is not one this
	// package supports.
	ErrUnsupportedAlg = errors.New("auth: unsupported algorithm")
	// ErrInvalidKey means a configured key does not suit its algorithm (wrong type, curve or
	// size, unreadable PEM, empty secret).
	ErrInvalidKey = errors.New("auth: invalid key")
)

// tokenError is what Verify returns: its kind (one of the sentinels above), ErrInvalidToken
// when the kind is more precise, and the cause, all reachable with errors.Is and errors.As.
type tokenError struct {
	kind  error
	cause error
}

func (e *tokenError) Error() string {
	if e.cause == nil {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.cause.Error()
}

func (e *tokenError) Unwrap() []error {
	errs := []error{e.kind}
	if e.kind != ErrInvalidToken {
		errs = append(errs, ErrInvalidToken)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// parseError is the error for a token the JWT parser refused: ErrExpired or ErrNotYetValid
// when its times are why, ErrInvalidToken otherwise.
func parseError(err error) error {
	kind := ErrInvalidToken
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		kind = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		kind = ErrNotYetValid
	}
	return &tokenError{kind, err}
}
