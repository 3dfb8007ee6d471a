package checks

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/report"
)

// Limits cap what the App accepts from an artifact. Artifacts are built by
// the PR's own code, so a fork can send anything: a zip bomb, thousands of
// entries, a report with a million steps.
type Limits struct {
	// ArchiveBytes caps the zip as downloaded.
	ArchiveBytes int64
	// EntryBytes caps the report file once unzipped; only that file is
	// inflated.
	EntryBytes int64
	// Entries caps the number of files in the zip.
	Entries int
}

// DefaultLimits are the report contract's caps (report.MaxArtifactBytes,
// report.MaxBytes): the App accepts every report the Action may write.
// Reports are tens of kilobytes.
var DefaultLimits = Limits{ArchiveBytes: report.MaxArtifactBytes, EntryBytes: report.MaxBytes, Entries: 16}

// RefusedError is an artifact the App will not read. Its message is shown
// in the check run, so it says what was wrong in the reader's terms.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// maxReports caps the report artifacts read from one run, and so the check
// runs it makes: each costs a download and a few API writes, and a run
// controlled by a fork's code can upload hundreds.
const maxReports = 64

// skipped counts the report artifacts of a run that get no check.
type skipped struct {
	overCap int      // report artifacts past the first maxReports
	more    bool     // and there may be more than counted
	invalid []string // names that hold no valid build key
}

// maxListPages bounds the artifact pages read to count what is skipped.
const maxListPages = 10

// artifacts lists the run's unexpired report artifacts with valid names,
// at most maxReports of them, in the API's order, and what was skipped.
func (p *Processor) artifacts(ctx context.Context, j *job) ([]*github.Artifact, skipped, error) {
	var out []*github.Artifact
	var skip skipped
	opts := &github.ListOptions{PerPage: 100}
	for page := 1; ; page++ {
		list, resp, err := j.gh.runs.ListWorkflowRunArtifacts(ctx, j.owner(), j.name(), j.run.GetID(), opts)
		if err != nil {
			return nil, skip, p.apiErr("list artifacts", err)
		}
		for _, a := range list.Artifacts {
			name := a.GetName()
			if a.GetExpired() || !strings.HasPrefix(name, strings.TrimSuffix(report.ArtifactPrefix, "-")) {
				continue
			}
			switch _, ok := report.ParseArtifactName(name); {
			case !ok:
				skip.invalid = append(skip.invalid, name)
			case len(out) < maxReports:
				out = append(out, a)
			default:
				skip.overCap++
			}
		}
		if resp.NextPage == 0 {
			return out, skip, nil
		}
		if page == maxListPages {
			skip.more = true
			return out, skip, nil
		}
		opts.Page = resp.NextPage
	}
}

// note tells the check's reader which reports were not checked, or is
// empty. The names are the run's to choose: escaped, cut, and few.
func (s skipped) note() string {
	var b strings.Builder
	if s.overCap > 0 {
		more := ""
		if s.more {
			more = " or more"
		}
		fmt.Fprintf(&b, "> **%d%s report artifacts skipped:** stageline checks at most %d reports of a workflow run; the rest of this run's were not read.\n\n",
			s.overCap, more, maxReports)
	}
	if n := len(s.invalid); n > 0 {
		names := make([]string, 0, 5)
		for _, name := range s.invalid[:min(n, 5)] {
			names = append(names, render.Code(name, 100))
		}
		if n > 5 {
			names = append(names, fmt.Sprintf("and %d more", n-5))
		}
		fmt.Fprintf(&b, "> **%d report artifacts skipped for their names:** %s. A report artifact is named `%sKEY`, KEY being up to %d letters, digits, `.`, `_` and `-`.\n\n",
			n, strings.Join(names, ", "), report.ArtifactPrefix, report.MaxBuildKeyLen)
	}
	return b.String()
}

// download fetches a signed artifact URL with a client that carries no
// GitHub credentials: the URL itself is the authorisation, and the token
// must never reach the storage host.
func download(ctx context.Context, hc *http.Client, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("artifact request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download artifact: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download artifact: %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, refused("the artifact is %d bytes, over the App's limit of %d", resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download artifact: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, refused("the artifact is over the App's limit of %d bytes", limit)
	}
	return data, nil
}

// extractReport finds the one report in an artifact zip and decodes it. It
// refuses archives with too many entries, entries that are not .json, and
// entries that expand past the limits, counting the bytes actually
// inflated: the sizes in zip headers are the attacker's to choose.
func extractReport(data []byte, lim Limits) (*report.Report, []byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, refused("the artifact is not a valid zip archive: %v", err)
	}
	if len(zr.File) > lim.Entries {
		return nil, nil, refused("the artifact holds %d files, over the limit of %d", len(zr.File), lim.Entries)
	}
	var found *zip.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if !strings.EqualFold(path.Ext(f.Name), ".json") {
			return nil, nil, refused("the artifact holds %q: only .json files are accepted", report.Truncate(f.Name, 100))
		}
		if f.UncompressedSize64 > uint64(lim.EntryBytes) {
			return nil, nil, refused("%q expands to %d bytes, over the limit of %d", report.Truncate(f.Name, 100), f.UncompressedSize64, lim.EntryBytes)
		}
		if found == nil || path.Base(f.Name) == report.ArtifactFile {
			found = f
		}
	}
	if found == nil {
		return nil, nil, refused("the artifact holds no .json report")
	}
	// Only the chosen entry is inflated; its real size is what counts.
	rc, err := found.Open()
	if err != nil {
		return nil, nil, refused("cannot open %q: %v", report.Truncate(found.Name, 100), err)
	}
	defer rc.Close()
	limit := lim.EntryBytes
	raw, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, nil, refused("cannot unzip %q: %v", report.Truncate(found.Name, 100), err)
	}
	if int64(len(raw)) > limit {
		return nil, nil, refused("%q expands past the limit of %d bytes (a zip bomb?)", report.Truncate(found.Name, 100), limit)
	}
	rep, err := report.Decode(bytes.NewReader(raw), limit)
	if err != nil {
		return nil, nil, refused("the report is invalid: %v", err)
	}
	return rep, raw, nil
}
