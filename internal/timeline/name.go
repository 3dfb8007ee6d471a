package timeline

import (
	"strconv"
	"strings"
)

// stepName is what a vertex name says about the Dockerfile step it runs.
type stepName struct {
	user     bool   // a numbered Dockerfile step: "[stage N/M] ..."
	platform string // "linux/arm64", or "linux/amd64->arm64" for a cross build; "" on single-platform builds
	stage    string // "" when BuildKit left it out (single-stage Dockerfiles)
	n, total int    // N and M of "N/M"
	command  string // "RUN echo hi", without the bracket
	from     bool   // the stage's FROM step
}

// parseStepName reads BuildKit's dockerfile2llb step names:
//
//	[build-stage 2/3] RUN echo hi
//	[linux/arm64 builder 1/4] FROM docker.io/library/alpine
//	[2/3] COPY . .                      (single-stage Dockerfile)
//	[stage-0 10/12] RUN make            (N is space-padded to M's width)
//
// Anything else ("[internal] load ...", "[auth] ...", "exporting to image", "importing cache manifest
// from ...", "[context base] ...") is BuildKit's own work and comes back with user false.
func parseStepName(name string) stepName {
	if !strings.HasPrefix(name, "[") {
		return stepName{}
	}
	end := strings.Index(name, "]")
	if end < 0 {
		return stepName{}
	}
	// Split on spaces by hand: BuildKit pads N with spaces, and strings.Fields would allocate for
	// every vertex.
	var buf [4]string
	fields := buf[:0]
	for f := range strings.FieldsSeq(name[1:end]) {
		if len(fields) == len(buf) {
			return stepName{}
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 || len(fields) > 3 {
		return stepName{}
	}
	ns, ms, ok := strings.Cut(fields[len(fields)-1], "/")
	if !ok {
		return stepName{}
	}
	n, err1 := strconv.Atoi(ns)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || n <= 0 || m <= 0 {
		return stepName{}
	}
	s := stepName{user: true, n: n, total: m, command: strings.TrimSpace(name[end+1:])}
	// Platforms always hold a '/', stage names never do (BuildKit rejects them).
	switch rest := fields[:len(fields)-1]; len(rest) {
	case 2:
		s.platform, s.stage = rest[0], rest[1]
	case 1:
		if strings.Contains(rest[0], "/") {
			s.platform = rest[0]
		} else {
			s.stage = rest[0]
		}
	}
	s.from = strings.HasPrefix(s.command, "FROM ")
	return s
}

// index is N/M as report.Step.Index shows it, without BuildKit's padding.
func (s stepName) index() string {
	if !s.user {
		return ""
	}
	return strconv.Itoa(s.n) + "/" + strconv.Itoa(s.total)
}

// contextName returns X for BuildKit's vertices of a named context, "[context X] ...", such as
// "[context diamol/base] OCI load from client" when a build gets its base image as a named context.
func contextName(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "[context ")
	if !ok {
		return "", false
	}
	x, _, ok := strings.Cut(rest, "]")
	return x, ok && x != ""
}

// StepRef is what a Dockerfile step's vertex name says about it.
type StepRef struct {
	Platform, Stage string
	// Command is the name after the "[...]" prefix, e.g. "RUN make".
	Command string
}

// ParseStep reads a Dockerfile step's vertex name ("[linux/amd64 build 2/3]
// RUN make"); ok is false for BuildKit's own work. Stage is "" on a
// single-stage Dockerfile, whose names carry none.
func ParseStep(name string) (StepRef, bool) {
	s := parseStepName(name)
	return StepRef{Platform: s.platform, Stage: s.stage, Command: s.command}, s.user
}
