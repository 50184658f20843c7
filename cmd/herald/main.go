// Command herald is a Server-Sent Events toolkit: it decodes raw event streams and, as the
// project grows, serves a pub/sub hub, listens to streams, publishes and mints tokens.
//
// Run "herald --help" for the list of commands and "herald COMMAND --help" for each one.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is what a command may touch of the outside world, so tests can run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one herald subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "run a Mercure-protocol hub: publish over HTTP, subscribe with EventSource", runServe},
		{"publish", "publish one update to a hub and print its id", runPublish},
		{"decode", "print the events a browser would dispatch from a raw event stream", runDecode},
		{"listen", "print the events of a live stream, reconnecting as a browser does", runListen},
		{"bench", "load a Mercure hub and measure it: idle, fanout, publish and resume scenarios", runBench},
		{"token", "print a JWT for a Mercure hub: publish and subscribe selectors, payload, expiry", runToken},
		{"healthcheck", "exit 0 when a URL answers 2xx (for container health checks)", runHealthcheck},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "herald: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "herald is a toolkit for Server-Sent Events.\n\nUsage:\n  herald COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"herald COMMAND --help\" for a command's flags.\n")
}
