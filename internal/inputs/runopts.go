package inputs

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/buildkit/util/entitlements"
	"github.com/tonistiigi/go-csvvalue"

	"github.com/stageline/stageline/internal/buildkit"
)

// resolveRunOptions checks the options of RUN instructions the way buildx
// turns its flags into frontend attrs.
func (in *Inputs) resolveRunOptions() error {
	var errs []error
	switch in.raw.network {
	case "", "default":
	case "host":
		in.Network = "host"
		// buildx allows the entitlement itself for --network host.
		in.raw.allow = append(in.raw.allow, Item{Value: string(entitlements.EntitlementNetworkHost)})
	case "none":
		in.Network = "none"
	default:
		errs = append(errs, fmt.Errorf("input network: %q is not a BuildKit network mode: use default, host or none", in.raw.network))
	}
	for _, it := range in.raw.allow {
		if _, _, err := entitlements.Parse(it.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s: unknown entitlement %q: use network.host, security.insecure or device[=NAME]", it.where("allow", "allow"), it.Value))
			continue
		}
		if !slices.Contains(in.Allow, it.Value) {
			in.Allow = append(in.Allow, it.Value)
		}
	}
	for _, it := range in.raw.addHosts {
		host, ip, ok := strings.Cut(it.Value, "=")
		if !ok {
			host, ip, ok = strings.Cut(it.Value, ":")
		}
		where := it.where("add-hosts", "add-host")
		if !ok || host == "" || ip == "" {
			errs = append(errs, fmt.Errorf("%s: malformed host %q: use HOST=IP or HOST:IP", where, it.Value))
			continue
		}
		if ip == "host-gateway" {
			errs = append(errs, fmt.Errorf("%s: host-gateway is resolved by the Docker engine's builder, not by BuildKit: give the IP address", where))
			continue
		}
		if len(ip) > 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
			ip = ip[1 : len(ip)-1]
		}
		addr := net.ParseIP(ip)
		if addr == nil {
			errs = append(errs, fmt.Errorf("%s: %q is not an IP address: use HOST=IP", where, ip))
			continue
		}
		in.AddHosts = append(in.AddHosts, buildkit.Host{Name: host, IP: addr})
	}
	if s := in.raw.shmSize; s != "" {
		n, err := units.RAMInBytes(s)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("input shm-size: %q is not a size: use e.g. 64m or 2g", s))
		} else {
			in.ShmSize = n
		}
	}
	for _, it := range in.raw.ulimits {
		u, err := units.ParseUlimit(it.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: malformed ulimit %q: use NAME=SOFT[:HARD], e.g. nofile=1024:2048", it.where("ulimit", "ulimit"), it.Value))
			continue
		}
		in.Ulimits = append(in.Ulimits, u)
	}
	return errors.Join(errs...)
}

// resolveCall maps the call input to the frontend's request id the way
// buildx does ("check" is its alias for "lint").
func (in *Inputs) resolveCall() error {
	if strings.TrimSpace(in.raw.call) == "" {
		return nil
	}
	fields, err := csvvalue.Fields(in.raw.call, nil)
	if err != nil || len(fields) > 1 {
		return fmt.Errorf("input call: %q: only the method is supported (build, check, outline or targets), not format= or ignorestatus=", in.raw.call)
	}
	name := ""
	if len(fields) == 1 {
		name = strings.TrimSpace(fields[0])
	}
	switch name {
	case "", "build":
		in.Call = ""
	case "check", "lint":
		in.Call = "lint"
	case "outline", "targets":
		in.Call = name
	default:
		return fmt.Errorf("input call: %q is not a method: use build, check, outline or targets", name)
	}
	return nil
}
