// Command stageline builds a Dockerfile on BuildKit and reports per-stage
// timings, cache reuse and image size. It is the GitHub Action's entrypoint
// and a local CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := guarded(run)(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
