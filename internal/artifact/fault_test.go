package artifact

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stageline/stageline/internal/testing/artifacttest"
)

// fastConfig retries quickly, so fault tests take milliseconds.
func fastConfig(srv *artifacttest.Server) Config {
	return Config{
		RuntimeToken:   artifacttest.Token("run-1", "job-1"),
		ResultsURL:     srv.URL,
		MaxAttempts:    3,
		BaseDelay:      time.Millisecond,
		MaxDelay:       5 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
		BlockTimeout:   2 * time.Second,
		BlockSize:      1024,
	}
}

// on spoils the first `times` requests of op (every one when times is 0).
func on(op artifacttest.Op, times int, f artifacttest.Fault) artifacttest.FaultFunc {
	return func(got artifacttest.Op, n int) artifacttest.Fault {
		if got == op && (times == 0 || n <= times) {
			return f
		}
		return artifacttest.Fault{}
	}
}

func TestUploadFaults(t *testing.T) {
	t.Parallel()
	report := readFixture(t, "report.json")
	zipped, err := buildZip([]File{{Name: "report.json", Data: report}})
	if err != nil {
		t.Fatal(err)
	}
	blocks := (len(zipped) + 1023) / 1024 // at fastConfig's BlockSize
	if blocks < 2 {
		t.Fatalf("the fixture makes %d block; fault tests want several", blocks)
	}
	slow := artifacttest.Fault{Delay: 10 * time.Second}
	tests := []struct {
		name     string
		fault    artifacttest.FaultFunc
		tune     func(*Config)
		op       artifacttest.Op
		requests int // requests of op the server saw
		wantErr  string
		wantIs   error
		status   int // the StatusError's status, if any
	}{
		{name: "no fault", op: artifacttest.OpPutBlock, requests: blocks},
		{name: "finalize 500 then ok", fault: on(artifacttest.OpFinalize, 2, artifacttest.Fault{Status: 500}),
			op: artifacttest.OpFinalize, requests: 3},
		{name: "finalize 500 always", fault: on(artifacttest.OpFinalize, 0, artifacttest.Fault{Status: 500}),
			op: artifacttest.OpFinalize, requests: 3, wantErr: "FinalizeArtifact: gave up after 3 attempts", status: 500},
		{name: "slow block then ok", fault: on(artifacttest.OpPutBlock, 1, slow),
			tune: func(c *Config) { c.BlockTimeout = 100 * time.Millisecond },
			op:   artifacttest.OpPutBlock, requests: blocks + 1},
		{name: "slow block always", fault: on(artifacttest.OpPutBlock, 0, slow),
			tune: func(c *Config) { c.BlockTimeout = 50 * time.Millisecond },
			op:   artifacttest.OpPutBlock, requests: 3, wantErr: "Put Block 1: gave up after 3 attempts: Put Block 1: attempt timed out after 50ms"},
		{name: "slow block list always", fault: on(artifacttest.OpPutBlockList, 0, slow),
			tune: func(c *Config) { c.BlockTimeout = 50 * time.Millisecond },
			op:   artifacttest.OpPutBlockList, requests: 3, wantErr: "Put Block List: gave up after 3 attempts"},
		{name: "slow create always", fault: on(artifacttest.OpCreate, 0, slow),
			tune: func(c *Config) { c.RequestTimeout = 50 * time.Millisecond },
			op:   artifacttest.OpCreate, requests: 3, wantErr: "CreateArtifact: gave up after 3 attempts"},
		{name: "block 503 then ok", fault: on(artifacttest.OpPutBlock, 1, artifacttest.Fault{Status: 503}),
			op: artifacttest.OpPutBlock, requests: blocks + 1},
		{name: "connection dropped then ok", fault: on(artifacttest.OpCreate, 2, artifacttest.Fault{Drop: true}),
			op: artifacttest.OpCreate, requests: 3},
		{name: "429 honours Retry-After", fault: on(artifacttest.OpCreate, 1, artifacttest.Fault{Status: 429, RetryAfter: "0"}),
			op: artifacttest.OpCreate, requests: 2},
		{name: "400 is not retried", fault: on(artifacttest.OpCreate, 0, artifacttest.Fault{Status: 400, Msg: "bad"}),
			op: artifacttest.OpCreate, requests: 1, wantErr: "CreateArtifact: HTTP 400", status: 400},
		{name: "quota is not retried", fault: on(artifacttest.OpCreate, 0, artifacttest.Fault{Status: 403, Msg: "insufficient usage to create artifact"}),
			op: artifacttest.OpCreate, requests: 1, wantIs: ErrQuota, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := artifacttest.NewServer(t, tt.fault)
			cfg := fastConfig(srv)
			if tt.tune != nil {
				tt.tune(&cfg)
			}
			start := time.Now()
			res, err := Upload(t.Context(), cfg, "stageline-report-faults", []File{{Name: "report.json", Data: report}})
			elapsed := time.Since(start)
			if got := srv.Requests(tt.op); got != tt.requests {
				t.Errorf("%s requests = %d, want %d", tt.op, got, tt.requests)
			}
			if elapsed > 3*time.Second {
				t.Errorf("Upload took %s: retries are not bounded by the configured timeouts", elapsed)
			}
			if tt.wantErr == "" && tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Upload: %v", err)
				}
				arts := srv.Artifacts()
				if len(arts) != 1 || arts[0].Digest != res.Digest || arts[0].ID != res.ID {
					t.Fatalf("server holds %+v, Upload returned %+v", arts, res)
				}
				if got := unzipAll(t, arts[0].Zip)["report.json"]; string(got) != string(report) {
					t.Errorf("stored report.json is not byte-identical")
				}
				return
			}
			if err == nil {
				t.Fatalf("Upload succeeded, want an error")
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if se, ok := errors.AsType[*StatusError](err); tt.status != 0 && (!ok || se.StatusCode != tt.status) {
				t.Errorf("error %v: want a StatusError with status %d", err, tt.status)
			}
			if len(srv.Artifacts()) != 0 {
				t.Errorf("a failed upload left a finalized artifact")
			}
		})
	}
}

// TestUploadStopsOnCancel checks that a cancelled context ends an upload at
// once, even inside a long attempt timeout.
func TestUploadStopsOnCancel(t *testing.T) {
	t.Parallel()
	srv := artifacttest.NewServer(t, on(artifacttest.OpPutBlock, 0, artifacttest.Fault{Delay: 10 * time.Second}))
	cfg := fastConfig(srv)
	cfg.BlockTimeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Upload(ctx, cfg, "stageline-report-cancel", []File{{Name: "report.json", Data: []byte("{}")}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Upload returned after %s", d)
	}
	if n := srv.Requests(artifacttest.OpPutBlock); n != 1 {
		t.Errorf("Put Block requests = %d, want 1 (no retry after cancel)", n)
	}
}

// TestUploadSignedURLNotLeaked checks that a failing blob request's error does
// not carry the signed URL's signature, which ends up in a workflow warning.
func TestUploadSignedURLNotLeaked(t *testing.T) {
	t.Parallel()
	srv := artifacttest.NewServer(t, on(artifacttest.OpPutBlock, 0, artifacttest.Fault{Drop: true}))
	_, err := Upload(t.Context(), fastConfig(srv), "stageline-report-leak", []File{{Name: "report.json", Data: []byte("{}")}})
	if err == nil {
		t.Fatal("Upload succeeded against a server that drops every block")
	}
	if strings.Contains(err.Error(), "sig=") {
		t.Errorf("error leaks the signature: %v", err)
	}
}
