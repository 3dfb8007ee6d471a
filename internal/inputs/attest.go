package inputs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/go-csvvalue"
)

// Attestation types BuildKit's Dockerfile frontend makes.
const (
	AttestProvenance = "provenance"
	AttestSBOM       = "sbom"
)

// resolveAttests merges provenance, sbom and attests into the frontend's
// attest:TYPE values the way docker/build-push-action (src/context.ts,
// getAttestArgs) and buildx (util/buildflags/attests.go) do: the provenance
// and sbom inputs win over attests entries of their type; true/false mean
// enabled/disabled; provenance gets the workflow run as builder-id under
// Actions; and when nothing asks for provenance, a pushed image gets it by
// default (mode=max for a public repository, mode=min,inline-only=true for a
// private one and on the command line), unless
// BUILDX_NO_DEFAULT_ATTESTATIONS is true, the image is loaded into Docker,
// or the build is a call other than build.
func (in *Inputs) resolveAttests(getenv func(string) string, inActions bool) error {
	attests := map[string]string{}
	disabled := map[string]bool{}
	var errs []error
	builderID := ""
	if inActions && getenv("GITHUB_REPOSITORY") != "" && getenv("GITHUB_RUN_ID") != "" {
		server := getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		builderID = fmt.Sprintf("%s/%s/actions/runs/%s", server, getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"))
		if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
			builderID += "/attempts/" + a
		}
	}
	withBuilderID := func(attrs []string) []string {
		if builderID == "" {
			return attrs
		}
		for _, a := range attrs {
			if k, _, _ := strings.Cut(a, "="); strings.TrimSpace(k) == "builder-id" {
				return attrs
			}
		}
		return append(attrs, "builder-id="+builderID)
	}
	set := func(typ string, attrs []string, where string) {
		if _, done := attests[typ]; done || disabled[typ] {
			return
		}
		var out []string
		for _, a := range attrs {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				b, err := strconv.ParseBool(strings.TrimSpace(a))
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: attribute %q is not KEY=VALUE, true or false", where, a))
					return
				}
				if !b {
					disabled[typ] = true
					return
				}
				continue
			}
			switch strings.TrimSpace(k) {
			case "type":
				continue
			case "disabled":
				if b, _ := strconv.ParseBool(v); b {
					disabled[typ] = true
					return
				}
				continue
			}
			out = append(out, a)
		}
		if typ == AttestProvenance {
			out = withBuilderID(out)
		}
		attests[typ] = strings.Join(append([]string{"type=" + typ}, out...), ",")
	}
	for _, in := range []struct{ typ, value string }{{AttestProvenance, in.raw.provenance}, {AttestSBOM, in.raw.sbom}} {
		if in.value == "" {
			continue
		}
		fields, err := csvvalue.Fields(in.value, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("input %s: %q: use true, false or KEY=VALUE,...", in.typ, in.value))
			continue
		}
		set(in.typ, fields, "input "+in.typ)
	}
	for _, it := range in.raw.attests {
		where := it.where("attests", "attest")
		fields, err := csvvalue.Fields(it.Value, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: use type=provenance|sbom[,KEY=VALUE...]", where, it.Value))
			continue
		}
		typ := ""
		for _, f := range fields {
			if k, v, _ := strings.Cut(f, "="); strings.TrimSpace(k) == "type" {
				typ = strings.TrimSpace(v)
			}
		}
		if typ == "" {
			errs = append(errs, fmt.Errorf("%s: %q has no type=: use type=provenance or type=sbom", where, it.Value))
			continue
		}
		set(typ, fields, where)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	_, asked := attests[AttestProvenance]
	if !asked && !disabled[AttestProvenance] && in.defaultProvenance(getenv) {
		mode := "mode=min,inline-only=true"
		if inActions && !privateRepository(getenv) {
			mode = "mode=max"
		}
		set(AttestProvenance, strings.Split(mode, ","), "default provenance")
	}
	if len(attests) > 0 {
		in.Attests = attests
	}
	return nil
}

// defaultProvenance reports whether a build gets provenance nobody asked
// for: only a pushed image, which is where registries and policies read it.
func (in *Inputs) defaultProvenance(getenv func(string) string) bool {
	if b, err := strconv.ParseBool(getenv("BUILDX_NO_DEFAULT_ATTESTATIONS")); err == nil && b {
		return false
	}
	if in.Load || in.Call != "" {
		return false
	}
	if in.Push && len(in.Outputs) == 0 {
		return true
	}
	push := in.Push
	for _, o := range in.Outputs {
		if o.Type == client.ExporterDocker {
			return false // the docker exporter takes no attestations
		}
		// type=registry is parsed as type=image,push=true.
		push = push || o.Attrs["push"] == "true"
	}
	return push
}

// privateRepository reads the workflow's event payload: build-push-action
// takes repository.private from it to pick the provenance mode.
func privateRepository(getenv func(string) string) bool {
	p := getenv("GITHUB_EVENT_PATH")
	if p == "" {
		return false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	var ev struct {
		Repository struct {
			Private bool `json:"private"`
		} `json:"repository"`
	}
	if json.Unmarshal(b, &ev) != nil {
		return false
	}
	return ev.Repository.Private
}
