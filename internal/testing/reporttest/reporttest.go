// Package reporttest checks reports against the report schema in tests and
// loads the report fixtures of internal/report/testdata.
package reporttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/stageline/stageline/internal/report"
)

// schemaURL only names the schema inside the compiler; nothing is fetched.
const schemaURL = "https://github.com/stageline/stageline/docs/report.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.Schema()))
	if err != nil {
		return nil, fmt.Errorf("parsing report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats (date-time) are assertions here, not annotations, so a
	// malformed timestamp fails.
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("adding report schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compiling report schema: %w", err)
	}
	return s, nil
})

// Validate reports whether data is a report that the schema accepts.
func Validate(data []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("parsing report: %w", err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("report does not match schema: %w", err)
	}
	return nil
}

// ValidateAgainstSchema fails t when data is not a report that
// docs/report.schema.json accepts.
func ValidateAgainstSchema(t testing.TB, data []byte) {
	t.Helper()
	if err := Validate(data); err != nil {
		t.Fatal(err)
	}
}

// fixtureDir is internal/report/testdata, found from this file so that
// tests in any package can load the report fixtures.
func fixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "report", "testdata")
}

// FixtureNames lists the report fixtures, internal/report/testdata/<name>.json.
func FixtureNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir(), "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no report fixtures in %s (%v)", fixtureDir(), err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".json")
	}
	return names
}

// Fixture returns the report fixture internal/report/testdata/<name>.json,
// decoded and as stored.
func Fixture(t testing.TB, name string) (*report.Report, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir(), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Decode(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return r, data
}
