package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stageline/stageline/internal/compare"
	"github.com/stageline/stageline/internal/units"

	"go.yaml.in/yaml/v3"

	"github.com/stageline/stageline/internal/render"
)

// WasteBudget caps the images' waste (bytes layers write that later layers
// overwrite or delete): `max_waste: 20000000` is bytes, `max_waste: 10%` a
// share of the images' uncompressed size. The zero value is no limit.
type WasteBudget struct {
	Bytes   int64
	Percent float64
}

// UnmarshalYAML reads an integer number of bytes or a percentage "N%".
func (w *WasteBudget) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: max_waste: want bytes (20000000) or a percentage (10%%)", n.Line)
	}
	if p, ok := strings.CutSuffix(strings.TrimSpace(n.Value), "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 {
			return fmt.Errorf("line %d: max_waste: %q is not a percentage from 0 to 100", n.Line, n.Value)
		}
		*w = WasteBudget{Percent: v}
		return nil
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: max_waste: %q is neither bytes (20000000) nor a percentage (10%%)", n.Line, n.Value)
	}
	*w = WasteBudget{Bytes: v}
	return nil
}

// wasteBreach says how the head's waste breaks the budget, or "". Images
// whose contents were not read have no known waste and never breach it.
func wasteBreach(w WasteBudget, c compare.Comparison) string {
	if !c.Content.Known {
		return ""
	}
	waste := c.Content.WastedBytes.Head
	switch {
	case w.Bytes > 0 && waste > w.Bytes:
		return fmt.Sprintf("wasted bytes %s (written by one layer, hidden by a later one) are over the budget of %s",
			units.Bytes(waste), units.Bytes(w.Bytes))
	case w.Percent > 0:
		var size int64
		for _, im := range c.Images {
			if im.Head != nil && im.Head.Content != nil {
				size += im.Uncompressed.Head
			}
		}
		if size > 0 && float64(waste)*100/float64(size) > w.Percent {
			return fmt.Sprintf("wasted bytes %s are %s of the image, over the budget of %g%%",
				units.Bytes(waste), render.FormatPercent(float64(waste)/float64(size)), w.Percent)
		}
	}
	return ""
}
