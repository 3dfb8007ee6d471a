package comparedoc_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/comparedoc"
	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/report"
	"github.com/stageline/stageline/internal/testing/reporttest"
)

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "comparison.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const url = "https://github.com/stageline/stageline/docs/comparison.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every fixture, against the seed and with no baseline, gives a document
// that docs/comparison.schema.json accepts, with its contents, timings and
// sizes (the JSON once carried only the why).
func TestDocumentMatchesSchema(t *testing.T) {
	t.Parallel()
	s := schema(t)
	seed, _ := reporttest.Fixture(t, "seed")
	for _, name := range reporttest.FixtureNames(t) {
		head, _ := reporttest.Fixture(t, name)
		for _, base := range []*report.Report{nil, seed} {
			a := compare.Analyze(base, head)
			doc := comparedoc.New(a, finding.Rank(finding.Input{Analysis: a}, finding.Defaults()))
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(inst); err != nil {
				t.Errorf("%s (baseline %v): %v", name, base != nil, err)
			}
			if len(doc.Stages) != len(a.Versus.Stages) || len(doc.Layers) != len(a.Versus.Layers) || doc.DurationMS.Head != head.Build.DurationMS {
				t.Errorf("%s: the document leaves out part of the comparison", name)
			}
		}
	}
}

// The grown build's 3,145,728-byte file, its layer and its timings are in
// the document, not only in the text.
func TestDocumentCarriesContentsSizesTimes(t *testing.T) {
	t.Parallel()
	seed, _ := reporttest.Fixture(t, "seed")
	grown, _ := reporttest.Fixture(t, "grown")
	a := compare.Analyze(seed, grown)
	doc := comparedoc.New(a, finding.Rank(finding.Input{Analysis: a}, finding.Defaults()))
	found := false
	for _, ch := range doc.Contents.Changes {
		if ch.Path == "/blob" && ch.Kind == "added" && ch.Bytes.Head == 3_145_728 && ch.Line == 13 {
			found = true
		}
	}
	if !found {
		t.Errorf("no /blob +3145728 B at line 13 in %+v", doc.Contents.Changes)
	}
	if doc.DurationMS != (comparedoc.Pair{Base: seed.Build.DurationMS, Head: grown.Build.DurationMS}) {
		t.Errorf("duration %+v", doc.DurationMS)
	}
	if len(doc.Findings.Items) != 1 || doc.Findings.Items[0].Kind != finding.Size {
		t.Errorf("findings %+v, want the size change", doc.Findings.Items)
	}
	failed, _ := reporttest.Fixture(t, "failed")
	doc = comparedoc.New(compare.Analyze(seed, failed), finding.List{})
	states := map[string]string{}
	for _, s := range doc.Stages {
		states[s.Name] = s.State
	}
	if states["stage-2"] != "not-run" {
		t.Errorf("stage-2 of the failed build is %q, want not-run", states["stage-2"])
	}
}
