package cachekey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/solver/pb"

	"github.com/stageline/stageline/internal/report"
)

// key is the op's digest with every session-specific part taken out and
// every input replaced by its own key, and with the files a copy reads
// from a local context in place of the context: the same inputs give the
// same key in any build.
func (c *computer) key(ctx context.Context, dgst string) (string, error) {
	if k, ok := c.keys[dgst]; ok {
		return k, nil
	}
	info := c.in.Ops[dgst]
	if info == nil {
		return dgst, nil // not in the definitions: its digest is all we know
	}
	if c.visiting[dgst] {
		return "", fmt.Errorf("the LLB has a cycle at %s", dgst)
	}
	c.visiting[dgst] = true
	defer delete(c.visiting, dgst)
	h := sha256.New()
	if src := info.Op.GetSource(); src != nil {
		ref, d := c.sourceRef(src.Identifier)
		if local, ok := strings.CutPrefix(src.Identifier, "local://"); ok {
			ref = "local://" + local
			if n, ok := c.names[local]; ok {
				ref = "local-context://" + n
			}
		}
		fmt.Fprintf(h, "source\x00%s\x00%s\x00", ref, d)
		attrs := make([]string, 0, len(src.Attrs))
		for k, v := range src.Attrs {
			switch k {
			case pb.AttrLocalSessionID, pb.AttrLocalUniqueID, pb.AttrSharedKeyHint, "oci.session", "oci.store":
				continue
			}
			attrs = append(attrs, k+"="+v)
		}
		sort.Strings(attrs)
		fmt.Fprintf(h, "%q", attrs)
	} else {
		op := info.Op.CloneVT()
		for i, in := range op.Inputs {
			k, err := c.key(ctx, in.Digest)
			if err != nil {
				return "", err
			}
			op.Inputs[i].Digest = k
		}
		b, err := op.MarshalVT()
		if err != nil {
			return "", fmt.Errorf("encoding an op: %w", err)
		}
		h.Write(b)
		if err := c.localCopies(ctx, info, func(sel report.SourceInput) { fmt.Fprintf(h, "\x00files %s", sel.Digest) }); err != nil {
			return "", err
		}
	}
	k := "sha256:" + hex.EncodeToString(h.Sum(nil))
	c.keys[dgst] = k
	return k, nil
}
