package inputs

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Item is one entry of a list input and where the user wrote it, so an
// error names the user's own line, not a position in re-joined text.
type Item struct {
	Value string
	// Line is the 1-based line of the input's value the item starts on;
	// 0 for a command-line flag.
	Line int
}

// where names an item in an error: "input NAME line N" or "--FLAG".
func (it Item) where(input, flag string) string {
	if it.Line == 0 && flag != "" {
		return "--" + flag
	}
	if it.Line == 0 {
		return "input " + input
	}
	return fmt.Sprintf("input %s line %d", input, it.Line)
}

// List splits a list input the way docker/build-push-action does, so values
// copied from its workflows mean the same here: one item per line, or per
// comma unless ignoreComma; double quotes group; lines starting with # are
// comments; blank items are dropped.
func List(value string, ignoreComma bool) ([]Item, error) {
	r := csv.NewReader(strings.NewReader(value))
	r.Comment = '#'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var out []Item
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("splitting list: %w", err)
		}
		if ignoreComma {
			line, _ := r.FieldPos(0)
			if v := strings.TrimSpace(strings.Join(rec, ",")); v != "" {
				out = append(out, Item{Value: v, Line: line})
			}
			continue
		}
		for i, f := range rec {
			line, _ := r.FieldPos(i)
			if v := strings.TrimSpace(f); v != "" {
				out = append(out, Item{Value: v, Line: line})
			}
		}
	}
}

// values drops the line numbers.
func values(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Value)
	}
	return out
}
