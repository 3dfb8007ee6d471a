package buildkit

import (
	"errors"
	"fmt"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// sessionAttrs are the source attrs that name the session serving a
// source's files.
var sessionAttrs = []string{pb.AttrLocalSessionID, pb.AttrOCILayoutSessionID}

// rebindSessions returns def with every source that names a session bound
// to sessionID instead. An op's digest is the digest of its bytes, so each
// changed op gets a new digest and every op above it is rewritten to name
// its inputs by theirs; metadata and source locations follow. No library
// does this: llb builds definitions, it does not edit them.
func rebindSessions(def *pb.Definition, sessionID string) (*pb.Definition, error) {
	ops := make(map[digest.Digest]*pb.Op, len(def.Def))
	order := make([]digest.Digest, 0, len(def.Def))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("decoding an LLB op: %w", err)
		}
		d := digest.FromBytes(dt)
		ops[d] = &op
		order = append(order, d)
	}
	renamed := map[digest.Digest]digest.Digest{}
	out := make([][]byte, 0, len(def.Def))
	visiting := map[digest.Digest]bool{}
	var visit func(d digest.Digest) (digest.Digest, error)
	visit = func(d digest.Digest) (digest.Digest, error) {
		if nd, ok := renamed[d]; ok {
			return nd, nil
		}
		op, ok := ops[d]
		if !ok {
			return "", fmt.Errorf("the definition names op %s, which it does not hold", d)
		}
		if visiting[d] {
			return "", errors.New("the definition has a cycle")
		}
		visiting[d] = true
		op = op.CloneVT()
		for _, in := range op.Inputs {
			nd, err := visit(digest.Digest(in.Digest))
			if err != nil {
				return "", err
			}
			in.Digest = string(nd)
		}
		if src := op.GetSource(); src != nil {
			for _, k := range sessionAttrs {
				if _, ok := src.Attrs[k]; ok {
					src.Attrs[k] = sessionID
				}
			}
		}
		// As llb marshals ops: sorted map keys, so an op that names no
		// session keeps its bytes and its digest.
		dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(op)
		if err != nil {
			return "", fmt.Errorf("encoding an LLB op: %w", err)
		}
		nd := digest.FromBytes(dt)
		renamed[d] = nd
		out = append(out, dt)
		return nd, nil
	}
	for _, d := range order {
		if _, err := visit(d); err != nil {
			return nil, err
		}
	}
	res := &pb.Definition{Def: out, Metadata: map[string]*pb.OpMetadata{}}
	for d, md := range def.Metadata {
		if nd, ok := renamed[digest.Digest(d)]; ok {
			res.Metadata[string(nd)] = md
		}
	}
	if def.Source != nil {
		src := def.Source.CloneVT()
		src.Locations = map[string]*pb.Locations{}
		for d, l := range def.Source.Locations {
			if nd, ok := renamed[digest.Digest(d)]; ok {
				src.Locations[string(nd)] = l
			}
		}
		res.Source = src
	}
	return res, nil
}
