package auth_test

import (
	"fmt"
	"time"

	"github.com/heraldsse/herald/auth"
)

func ExampleMint() {
	key := []byte("!ChangeThisMercureHubJWTSecretKey!")
	token, err := auth.Mint(key, "HS256", auth.Claims{
		Publish:   []string{"https://example.com/books/{id}"},
		Subscribe: []string{"https://example.com/users/kevin"},
	}, time.Hour)
	if err != nil {
		panic(err)
	}

	v, _ := auth.NewVerifier("HS256", key)
	claims, err := v.Verify(token)
	fmt.Println(err)
	fmt.Println(claims.Publish, claims.Subscribe)
	// Output:
	// <nil>
	// [https://example.com/books/{id}] [https://example.com/users/kevin]
}

func ExampleCanPublish() {
	claims := &auth.Claims{Publish: []string{"https://example.com/books/{id}"}}
	// Every topic of the update, canonical and alternates, must be allowed.
	fmt.Println(auth.CanPublish(claims, []string{"https://example.com/books/1"}))
	fmt.Println(auth.CanPublish(claims, []string{"https://example.com/books/1", "https://example.com/users/kevin"}))
	// Output:
	// true
	// false
}

func ExampleCanReceive() {
	claims := &auth.Claims{Subscribe: []string{"https://example.com/users/kevin"}}
	// A private update reaches a subscriber allowed for any one of its topics.
	update := []string{"https://example.com/books/1", "https://example.com/users/kevin"}
	fmt.Println(auth.CanReceive(claims, update))
	fmt.Println(auth.CanReceive(nil, update)) // anonymous
	// Output:
	// true
	// false
}
