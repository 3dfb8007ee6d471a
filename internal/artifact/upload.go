package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Result describes an uploaded artifact.
type Result struct {
	// ID is the artifact id the service gave at finalize: the one the REST API
	// (GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip) takes.
	ID   int64
	Name string
	// Size is the zip's size in bytes.
	Size int64
	// Digest is the zip's "sha256:<hex>", as the service stores it.
	Digest string
}

// Upload zips files and uploads them as the artifact called name, within the
// current workflow job: CreateArtifact, the zip to the signed URL in blocks,
// then FinalizeArtifact with the zip's size and sha256. Each request is
// retried on 5xx, 429 and network errors (Config says how often and how
// long). The same files always make the same zip, so the digest is stable.
//
// An artifact name is unique within a run: a second Upload with the same name
// is refused by the service. Callers in the Action should report an error as
// a warning; the build itself has succeeded.
func Upload(ctx context.Context, cfg Config, name string, files []File) (Result, error) {
	if cfg.RuntimeToken == "" || cfg.ResultsURL == "" {
		return Result{}, ErrNotConfigured
	}
	if err := ValidateName(name); err != nil {
		return Result{}, fmt.Errorf("artifact: %w", err)
	}
	cfg = cfg.withDefaults()
	ids, err := BackendIDsFromToken(cfg.RuntimeToken)
	if err != nil {
		return Result{}, fmt.Errorf("artifact: %w", err)
	}
	zipped, err := buildZip(files)
	if err != nil {
		return Result{}, fmt.Errorf("artifact %s: %w", name, err)
	}
	sum := sha256.Sum256(zipped)
	res := Result{Name: name, Size: int64(len(zipped)), Digest: "sha256:" + hex.EncodeToString(sum[:])}
	log := cfg.Logger.With("artifact", name)

	create := createArtifactRequest{
		WorkflowRunBackendID:    ids.WorkflowRun,
		WorkflowJobRunBackendID: ids.WorkflowJobRun,
		Name:                    name,
		Version:                 4,
	}
	if t := cfg.expiresAt(); !t.IsZero() {
		create.ExpiresAt = t.Format(time.RFC3339)
	}
	answer, err := call(ctx, cfg, "CreateArtifact", create)
	if err != nil {
		return Result{}, fmt.Errorf("artifact %s: %w", name, err)
	}
	if err := checkOK("CreateArtifact", answer); err != nil {
		return Result{}, fmt.Errorf("artifact %s: %w", name, err)
	}
	signed, err := answer.str("signedUploadUrl", "signed_upload_url")
	if err != nil {
		return Result{}, fmt.Errorf("artifact %s: CreateArtifact: %w", name, err)
	}
	if signed == "" {
		return Result{}, fmt.Errorf("artifact %s: %w", name, errNoUploadURL)
	}
	log.DebugContext(ctx, "artifact created", "upload_url", redact(signed))

	if err := uploadBlob(ctx, cfg, signed, zipped); err != nil {
		return Result{}, fmt.Errorf("artifact %s: uploading zip: %w", name, err)
	}
	log.DebugContext(ctx, "artifact zip uploaded", "size", res.Size, "digest", res.Digest)

	answer, err = call(ctx, cfg, "FinalizeArtifact", finalizeArtifactRequest{
		WorkflowRunBackendID:    ids.WorkflowRun,
		WorkflowJobRunBackendID: ids.WorkflowJobRun,
		Name:                    name,
		Size:                    strconv.FormatInt(res.Size, 10),
		Hash:                    res.Digest,
	})
	if err != nil {
		return Result{}, fmt.Errorf("artifact %s: %w", name, err)
	}
	if err := checkOK("FinalizeArtifact", answer); err != nil {
		return Result{}, fmt.Errorf("artifact %s: %w", name, err)
	}
	if res.ID, err = answer.int64("artifactId", "artifact_id"); err != nil {
		return Result{}, fmt.Errorf("artifact %s: FinalizeArtifact: %w", name, err)
	}
	log.InfoContext(ctx, "artifact uploaded", "id", res.ID, "size", res.Size, "digest", res.Digest)
	return res, nil
}
