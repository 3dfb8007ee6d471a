package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/stageline/stageline/internal/build"
	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/render"
)

// output shows results where the user looks: workflow commands, outputs and
// the job summary under GitHub Actions, plain text in a terminal. It is the
// only place that emits workflow commands.
type output struct {
	inActions bool
	gh        *githubactions.Action
	stdout    io.Writer
	stderr    io.Writer
}

func newOutput(inActions bool, getenv func(string) string, stdout, stderr io.Writer) *output {
	return &output{
		inActions: inActions,
		gh:        githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout)),
		stdout:    stdout,
		stderr:    stderr,
	}
}

// inputError reports a problem that stopped the build before it ran, as one
// line (each joined error on its own line).
func (o *output) inputError(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line == "" {
			continue
		}
		if o.inActions {
			o.gh.Errorf("%s", line)
		} else {
			fmt.Fprintf(o.stderr, "stageline: %s\n", line)
		}
	}
}

func (o *output) warning(msg string) {
	if o.inActions {
		o.gh.Warningf("%s", msg)
	} else {
		fmt.Fprintf(o.stderr, "stageline: warning: %s\n", msg)
	}
}

func (o *output) info(msg string) {
	if o.inActions {
		o.gh.Infof("%s\n", msg)
	} else {
		fmt.Fprintf(o.stderr, "stageline: %s\n", msg)
	}
}

// finish shows the report; base is the baseline report to explain cache
// misses against (nil for none). The report is compared with it once, here,
// and every view renders that one analysis.
func (o *output) finish(res *build.Result, reportPath string, a compare.Analysis) {
	r := res.Report
	for _, w := range cacheWarnings(r) {
		o.warning(w)
	}
	if !o.inActions {
		if err := render.RenderText(o.stdout, a); err != nil {
			fmt.Fprintf(o.stderr, "stageline: rendering the report: %v\n", err)
		}
		o.whyText(a)
		fmt.Fprintf(o.stderr, "report written to %s\n", reportPath)
		return
	}

	for _, w := range r.Warnings {
		o.gh.WithFieldsMap(location(w.File, w.Line, w.Rule)).Warningf("%s", w.Message)
	}
	if e := r.Error; e != nil {
		msg := e.Message
		if e.Step != "" {
			msg = e.Step + ": " + msg
		}
		o.gh.WithFieldsMap(location(e.File, e.Line, "Build failed")).Errorf("%s", msg)
	}
	o.setOutputs(res, reportPath)
	var md bytes.Buffer
	if err := render.RenderSummary(&md, a); err != nil {
		o.gh.Warningf("rendering the job summary: %v", err)
		return
	}
	o.gh.AddStepSummary(md.String())
	if err := render.RenderText(o.stdout, a); err != nil {
		o.gh.Warningf("rendering the report: %v", err)
	}
}

// annotate puts a message on a Dockerfile line: an annotation under
// Actions, a file:line message in a terminal.
func (o *output) annotate(level, file string, line int, title, msg string) {
	if !o.inActions {
		fmt.Fprintf(o.stderr, "stageline: %s: %s:%d: %s: %s\n", level, file, line, title, msg)
		return
	}
	a := o.gh.WithFieldsMap(location(file, line, title))
	if level == "error" {
		a.Errorf("%s", msg)
	} else {
		a.Warningf("%s", msg)
	}
}

func location(file string, line int, title string) map[string]string {
	f := map[string]string{"title": title}
	if file != "" {
		f["file"] = file
	}
	if line > 0 {
		f["line"] = strconv.Itoa(line)
	}
	return f
}

// setOutputs sets the step outputs; digest, imageid and metadata mean what
// they mean in docker/build-push-action.
func (o *output) setOutputs(res *build.Result, reportPath string) {
	r := res.Report
	o.gh.SetOutput("report", reportPath)
	o.gh.SetOutput("cache-hit-ratio", strconv.FormatFloat(r.Cache.HitRatio, 'f', 4, 64))
	if len(r.Images) > 0 {
		o.gh.SetOutput("image-size", strconv.FormatInt(r.Images[0].CompressedSizeBytes, 10))
	}
	if d := res.ExporterResponse["containerimage.digest"]; d != "" {
		o.gh.SetOutput("digest", d)
	}
	// imageid is what buildx writes to its --iidfile: the config digest of
	// a single image, else the digest of the index (multi-platform or with
	// attestations).
	if d := res.ExporterResponse["containerimage.config.digest"]; d != "" {
		o.gh.SetOutput("imageid", d)
	} else if d := res.ExporterResponse["containerimage.digest"]; d != "" {
		o.gh.SetOutput("imageid", d)
	}
	if len(res.ExporterResponse) > 0 {
		// Indented like build-push-action's JSON.stringify(metadata, null, 2).
		if b, err := json.MarshalIndent(res.ExporterResponse, "", "  "); err == nil {
			o.gh.SetOutput("metadata", string(b))
		}
	}
}
