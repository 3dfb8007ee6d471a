package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/comparedoc"
	"github.com/stageline/stageline/internal/finding"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

const diffUsage = `usage: stageline diff [--format text|json] BASE.json HEAD.json

Compares two build reports as the check run does: what is notable first,
then each stage's cache and time, the images' and layers' sizes, why each
stage of HEAD first missed the cache (instruction, files, build-arg or env,
base-image, upstream, not-cached or unknown) and what changed in the
images' files. --format json prints the same comparison as data
(docs/comparison.schema.json; docs/report.md, "stageline diff").
`

// maxDiffReport caps each report file read by diff.
const maxDiffReport = report.MaxBytes

// runDiff is the diff subcommand. Exit codes: 0 compared (or shown without
// a comparable baseline, with the reason), 2 bad input.
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stageline diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, diffUsage) }
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitBadInput
	}
	if fs.NArg() != 2 || (*format != "text" && *format != "json") {
		fmt.Fprint(stderr, diffUsage)
		return exitBadInput
	}
	base, err := readReport(fs.Arg(0), "baseline")
	if err != nil {
		fmt.Fprintln(stderr, "stageline diff:", err)
		return exitBadInput
	}
	head, err := readReport(fs.Arg(1), "head")
	if err != nil {
		fmt.Fprintln(stderr, "stageline diff:", err)
		return exitBadInput
	}
	// One analysis and one list of findings, rendered as text or data: the
	// same the check run and the job summary show.
	a := compare.Analyze(base, head)
	lead := finding.Rank(finding.Input{Analysis: a}, finding.Defaults())
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(comparedoc.New(a, lead)); err != nil {
			fmt.Fprintln(stderr, "stageline diff:", err)
			return exitBuildError
		}
		return exitOK
	}
	if err := render.RenderDiffText(stdout, a, lead); err != nil {
		fmt.Fprintln(stderr, "stageline diff:", err)
		return exitBuildError
	}
	return exitOK
}

// readReport decodes one report file; the error is one line naming it.
func readReport(path, what string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s report: %w", what, err)
	}
	defer f.Close()
	r, err := report.Decode(f, maxDiffReport)
	if err != nil {
		return nil, fmt.Errorf("the %s report %s: %w", what, path, err)
	}
	return r, nil
}
