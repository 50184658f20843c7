// Package console is the hub's web console: a page to subscribe to topics and watch updates
// arrive, publish updates, and copy the equivalent curl and herald commands.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary, with no external fonts,
// scripts or style sheets, so it works on a machine with no Internet access. It talks to
// the hub only through the Mercure protocol, like any other client.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// Path is where the console is served.
const Path = "/.well-known/mercure/ui/"

//go:embed ui
var files embed.FS

// Handler serves the console's files. Mount it at Path.
func Handler() http.Handler {
	ui, err := fs.Sub(files, "ui")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fileServer := http.StripPrefix(Path, http.FileServerFS(ui))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The page loads nothing from elsewhere; say so, so that injected markup could not.
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
