package inputs

import (
	"encoding/csv"
	"fmt"
	"strings"
)

// List splits a list input the way docker/build-push-action does, so values
// copied from its workflows mean the same here: one item per line, or per
// comma unless ignoreComma; double quotes group; lines starting with # are
// comments; blank items are dropped.
func List(value string, ignoreComma bool) ([]string, error) {
	r := csv.NewReader(strings.NewReader(value))
	r.Comment = '#'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("splitting list: %w", err)
	}
	var out []string
	for _, rec := range records {
		if ignoreComma {
			if item := strings.TrimSpace(strings.Join(rec, ",")); item != "" {
				out = append(out, item)
			}
			continue
		}
		for _, f := range rec {
			if item := strings.TrimSpace(f); item != "" {
				out = append(out, item)
			}
		}
	}
	return out, nil
}
