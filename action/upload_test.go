package main

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stageline/stageline/internal/testing/artifacttest"
)

func TestReportUploadedAsArtifact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     artifacttest.FaultFunc
		uploaded  bool
		wantWarn  string
		uploadOff bool
	}{
		{name: "uploaded", uploaded: true},
		{
			name: "finalize keeps failing",
			fault: func(op artifacttest.Op, n int) artifacttest.Fault {
				if op == artifacttest.OpFinalize {
					return artifacttest.Fault{Status: http.StatusInternalServerError, Msg: "boom"}
				}
				return artifacttest.Fault{}
			},
			wantWarn: `(?m)^::warning::report not uploaded as artifact stageline-report-`,
		},
		{name: "upload-report false", uploadOff: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := artifacttest.NewServer(t, tt.fault)
			in := map[string]string{"context": "../examples/multistage"}
			if tt.uploadOff {
				in["upload-report"] = "false"
			}
			env, _, _ := actionsEnv(t, in)
			env["ACTIONS_RUNTIME_TOKEN"] = artifacttest.Token("1658821493", "7")
			env["ACTIONS_RESULTS_URL"] = srv.URL + "/"
			res := invoke(t, nil, mapEnv(t, env), env["INPUT_REPORT-PATH"])
			if res.code != exitOK {
				t.Fatalf("exit %d (a failed upload must not fail the build)\n%s", res.code, res.stdout)
			}
			if tt.wantWarn != "" && !regexp.MustCompile(tt.wantWarn).MatchString(res.stdout) {
				t.Errorf("no upload warning in:\n%s", res.stdout)
			}
			var got []artifacttest.Artifact
			for _, a := range srv.Artifacts() {
				if a.Finalized {
					got = append(got, a)
				}
			}
			if !tt.uploaded {
				if len(got) != 0 {
					t.Errorf("artifacts %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d finalized artifacts, want 1", len(got))
			}
			a := got[0]
			if !strings.HasPrefix(a.Name, "stageline-report-") || a.RunID != "1658821493" {
				t.Errorf("artifact %q in run %s", a.Name, a.RunID)
			}
			zr, err := zip.NewReader(bytes.NewReader(a.Zip), int64(len(a.Zip)))
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != 1 || zr.File[0].Name != "report.json" {
				t.Fatalf("zip holds %v, want report.json", zr.File)
			}
			f, err := zr.File[0].Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(f)
			if !bytes.Equal(b, res.rawReport) {
				t.Error("the uploaded report differs from the one written")
			}
		})
	}
}
