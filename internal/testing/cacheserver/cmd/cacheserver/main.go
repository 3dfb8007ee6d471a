// Command cacheserver runs the in-repo Actions cache test server outside `go test`, for
// scripts (scripts/bench-cache) and for recording BuildKit status streams with buildctl.
//
// It prints the runner environment (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, or
// ACTIONS_CACHE_URL with -v2=false) as KEY=VALUE lines on stdout and in -env-file, then
// serves until SIGINT or SIGTERM, when it lists the stored entries on stderr:
//
//	go build -o /tmp/cacheserver ./internal/testing/cacheserver/cmd/cacheserver
//	/tmp/cacheserver -env-file /tmp/env & # wait for /tmp/env, then: set -a; . /tmp/env
//
// Faults are given as -fault ROUTE=STATUS[,retry-after=DUR][,times=N][,delay=DUR][,drop],
// with ROUTE one of the cacheserver.Route values (e.g. "v2/CreateCacheEntry").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stageline/stageline/internal/testing/cacheserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type faultFlags []string

func (f *faultFlags) String() string     { return strings.Join(*f, " ") }
func (f *faultFlags) Set(v string) error { *f = append(*f, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cacheserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "listen on 127.0.0.1:`port` (default: a free port)")
	v2 := fs.Bool("v2", true, "print the v2 environment (ACTIONS_RESULTS_URL); false: v1 (ACTIONS_CACHE_URL)")
	branch := fs.String("branch", "main", "the token's read/write scope refs/heads/`branch`")
	envFile := fs.String("env-file", "", "also write the environment to `file` (written once the server listens)")
	var faults faultFlags
	fs.Var(&faults, "fault", "inject a fault: `ROUTE=STATUS[,retry-after=DUR][,times=N][,delay=DUR][,drop]` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var opts []cacheserver.Option
	if *port != 0 {
		opts = append(opts, cacheserver.WithPort(*port))
	}
	s, err := cacheserver.New(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "cacheserver: %v\n", err)
		return 1
	}
	defer s.Close()
	for _, f := range faults {
		route, fault, err := parseFault(f)
		if err != nil {
			fmt.Fprintf(stderr, "cacheserver: -fault %q: %v\n", f, err)
			return 2
		}
		s.Inject(route, fault)
	}
	env, err := s.RunnerEnv(*v2, cacheserver.BranchScopes(*branch)...)
	if err != nil {
		fmt.Fprintf(stderr, "cacheserver: minting a token: %v\n", err)
		return 1
	}
	// A Docker container action never gets ACTIONS_CACHE_SERVICE_V2: leave it out so
	// that whoever reads this environment sees what stageline sees in a workflow.
	delete(env, "ACTIONS_CACHE_SERVICE_V2")
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(b.String()), 0o600); err != nil {
			fmt.Fprintf(stderr, "cacheserver: %v\n", err)
			return 1
		}
	}
	fmt.Fprint(stdout, b.String())
	<-ctx.Done()
	for _, e := range s.Entries() {
		fmt.Fprintf(stderr, "cacheserver: entry %s %s %d bytes\n", e.Scope, e.Key, e.Size)
	}
	return 0
}

// parseFault reads ROUTE=STATUS[,retry-after=DUR][,times=N][,delay=DUR][,drop].
func parseFault(s string) (cacheserver.Route, cacheserver.Fault, error) {
	route, spec, ok := strings.Cut(s, "=")
	if !ok || route == "" {
		return "", cacheserver.Fault{}, errors.New("want ROUTE=STATUS[,...]")
	}
	var f cacheserver.Fault
	for i, part := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(part, "=")
		var err error
		switch {
		case i == 0 && k != "drop":
			f.Status, err = strconv.Atoi(k)
		case k == "retry-after":
			f.RetryAfter, err = time.ParseDuration(v)
		case k == "times":
			f.Times, err = strconv.Atoi(v)
		case k == "delay":
			f.Delay, err = time.ParseDuration(v)
		case k == "drop":
			f.Drop = true
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return "", cacheserver.Fault{}, fmt.Errorf("%s: %w", part, err)
		}
	}
	return cacheserver.Route(route), f, nil
}
