package auth_test

import (
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
)

func TestCanPublish(t *testing.T) {
	t.Parallel()
	books := []string{"https://example.com/books/{id}", "https://example.com/authors/1"}
	tests := []struct {
		name    string
		publish []string
		topics  []string
		want    bool
	}{
		{"star", []string{"*"}, []string{"https://example.com/a", "urn:x"}, true},
		{"template", books, []string{"https://example.com/books/1"}, true},
		{"exact", books, []string{"https://example.com/authors/1"}, true},
		{"every topic allowed", books, []string{"https://example.com/books/1", "https://example.com/authors/1"}, true},
		// draft-07: not authorized for all the topics means no dispatch, even if some are.
		{"one alternate not allowed", books, []string{"https://example.com/books/1", "https://example.com/users/1"}, false},
		{"canonical not allowed", books, []string{"https://example.com/users/1", "https://example.com/books/1"}, false},
		{"no topics", books, nil, false},
		{"empty publish list", []string{}, []string{"https://example.com/books/1"}, false},
		{"no publish list", nil, []string{"https://example.com/books/1"}, false},
		{"invalid template matches itself only", []string{"https://example.com/books/{id"}, []string{"https://example.com/books/1"}, false},
		{"invalid template, same text", []string{"https://example.com/books/{id"}, []string{"https://example.com/books/{id"}, true},
	}
	v := mustVerifier(t, "HS256", secret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			byHand := &auth.Claims{Publish: tt.publish}
			if got := auth.CanPublish(byHand, tt.topics); got != tt.want {
				t.Errorf("hand-built claims: CanPublish(%q, %q) = %v, want %v", tt.publish, tt.topics, got, tt.want)
			}
			verified, err := v.Verify(mustMint(t, secret, "HS256", auth.Claims{Publish: tt.publish, Subscribe: []string{"x"}}, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if got := auth.CanPublish(verified, tt.topics); got != tt.want {
				t.Errorf("verified claims: CanPublish(%q, %q) = %v, want %v", tt.publish, tt.topics, got, tt.want)
			}
		})
	}
	if auth.CanPublish(nil, []string{"*"}) {
		t.Error("nil claims may publish")
	}
}

func TestCanReceive(t *testing.T) {
	t.Parallel()
	sub := []string{"https://example.com/users/kevin/{+rest}", "https://example.com/admin"}
	tests := []struct {
		name      string
		subscribe []string
		topics    []string
		want      bool
	}{
		{"star", []string{"*"}, []string{"https://example.com/anything"}, true},
		{"canonical", sub, []string{"https://example.com/users/kevin/books/1"}, true},
		// An alternate topic is enough: that is how a private update targets a user.
		{"alternate", sub, []string{"https://example.com/books/1", "https://example.com/admin"}, true},
		{"none", sub, []string{"https://example.com/books/1", "https://example.com/users/anne/books/1"}, false},
		{"no topics", sub, nil, false},
		{"no subscribe list", nil, []string{"https://example.com/admin"}, false},
		{"empty subscribe list", []string{}, []string{"https://example.com/admin"}, false},
	}
	v := mustVerifier(t, "HS256", secret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := auth.CanReceive(&auth.Claims{Subscribe: tt.subscribe}, tt.topics); got != tt.want {
				t.Errorf("hand-built: CanReceive(%q, %q) = %v, want %v", tt.subscribe, tt.topics, got, tt.want)
			}
			verified, err := v.Verify(mustMint(t, secret, "HS256", auth.Claims{Subscribe: tt.subscribe, Publish: []string{"x"}}, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if got := auth.CanReceive(verified, tt.topics); got != tt.want {
				t.Errorf("verified: CanReceive(%q, %q) = %v, want %v", tt.subscribe, tt.topics, got, tt.want)
			}
		})
	}
	if auth.CanReceive(nil, []string{"https://example.com/admin"}) {
		t.Error("an anonymous subscriber receives a private update")
	}
}
