// The caddy command with Caddy's standard modules and nothing else: the same program as upstream's
// cmd/caddy/main.go, built here from the Go module proxy because no registry offers an ingress controller offline.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() {
	caddycmd.Main()
}
