package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/stageline/stageline/internal/artifact"
	"github.com/stageline/stageline/internal/report"
)

// uploadReport uploads the encoded report as the artifact named for the
// build's key (report.ArtifactName; the App keeps one check run, baseline
// and history per key), file report.ArtifactFile, where the App looks for
// it. A failed upload is a warning: the build it
// reports on has already succeeded or failed on its own.
func uploadReport(ctx context.Context, getenv func(string) string, key string, data []byte, out *output) {
	cfg, err := artifact.ConfigFromEnv(getenv)
	if errors.Is(err, artifact.ErrNotConfigured) {
		out.warning("report not uploaded: ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL is not set (set upload-report: false to skip the upload)")
		return
	}
	if err != nil {
		out.warning(fmt.Sprintf("report not uploaded: %v", err))
		return
	}
	name := report.ArtifactName(key)
	res, err := artifact.Upload(ctx, cfg, name, []artifact.File{{Name: report.ArtifactFile, Data: data}})
	if err != nil {
		out.warning(fmt.Sprintf("report not uploaded as artifact %s: %v", name, err))
		return
	}
	out.gh.SetOutput("report-artifact-id", fmt.Sprint(res.ID))
	out.info(fmt.Sprintf("report uploaded as artifact %s (%d bytes, %s)", res.Name, res.Size, res.Digest))
}
