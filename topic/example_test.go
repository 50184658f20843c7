package topic_test

import (
	"fmt"

	"github.com/heraldsse/herald/topic"
)

func ExampleCompile() {
	sel, err := topic.Compile("https://example.com/books/{id}")
	fmt.Println(err)
	fmt.Println(sel.Match("https://example.com/books/1"))
	fmt.Println(sel.Match("https://example.com/books/1/reviews"))

	// Not a valid template: an error, and a selector that matches only its own text.
	bad, err := topic.Compile("https://example.com/books/{id")
	fmt.Println(err != nil, bad.Match("https://example.com/books/{id"), bad.Match("https://example.com/books/1"))
	// Output:
	// <nil>
	// true
	// false
	// true true false
}

func ExampleSet_MatchAny() {
	subscription := topic.CompileSet([]string{"https://example.com/users/kevin", "https://example.com/books/{id}"})
	// An update's canonical topic, then its alternates: one match is enough.
	update := []string{"https://example.com/reviews/7", "https://example.com/books/1"}
	fmt.Println(subscription.MatchAny(update))
	// Output: true
}

func ExampleMatcher() {
	var m topic.Matcher // shared by all subscribers; safe for concurrent use
	for range 1000 {
		sel, _ := m.Compile("https://example.com/books/{id}") // compiled once
		_ = sel
	}
	fmt.Println(m.Len())
	// Output: 1
}
