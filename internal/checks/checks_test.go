package checks

import (
	"archive/zip"
	"bytes"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stageline/stageline/internal/finding"
	"github.com/stageline/stageline/internal/testing/githubfake"
)

func seed(t testing.TB) []byte {
	b, err := os.ReadFile("../../app/testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractReport(t *testing.T) {
	t.Parallel()
	good := seed(t)
	many := map[string][]byte{}
	for i := range 20 {
		many[strings.Repeat("x", i+1)+".json"] = good
	}
	tests := []struct {
		name  string
		files map[string][]byte
		err   string
	}{
		{"report", map[string][]byte{"report.json": good}, ""},
		{"report beside other json", map[string][]byte{"a.json": []byte("{}"), "report.json": good}, ""},
		{"zip bomb", map[string][]byte{"report.json": bytes.Repeat([]byte("0"), 20<<20)}, "over the limit"},
		{"too many entries", many, "holds 20 files"},
		{"not json", map[string][]byte{"report.json": good, "x.sh": nil}, "only .json"},
		{"empty", map[string][]byte{}, "no .json report"},
		{"bad schema", map[string][]byte{"report.json": []byte(`{"schema_version":2}`)}, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := extractReport(githubfake.Zip(t, tt.files), DefaultLimits)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want a refusal with %q", err, tt.err)
			}
		})
	}
	if _, _, err := extractReport([]byte("not a zip"), DefaultLimits); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, err string
	}{
		{"empty", "", ""},
		{"full", "budgets:\n  max_size_bytes: 100\n  max_growth_percent: 5\non_breach: neutral\nignore: [docs]\n", ""},
		{"unknown key", "budget:\n  x: 1\n", "line 1"},
		{"bad type", "budgets:\n  max_growth_bytes: lots\n", "line 2"},
		{"bad breach", "on_breach: explode\n", "on_breach"},
		{"negative", "budgets:\n  max_size_bytes: -1\n", "negative"},
		{"headline", "headline:\n  size_bytes: 0\n  time_ms: 5000\n", ""},
		{"headline negative", "headline:\n  cache_miss_ms: -1\n", "headline: headline thresholds must not be negative"},
		{"headline unknown key", "headline:\n  size: 1\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(tt.in))
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// Headline thresholds left out keep their defaults; those given replace
// them.
func TestParseConfigHeadline(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte("headline:\n  size_bytes: 0\n  time_ms: 5000\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := finding.Defaults()
	want.SizeBytes, want.TimeMS = 0, 5000
	if cfg.Headline != want {
		t.Errorf("headline %+v, want %+v", cfg.Headline, want)
	}
	if cfg, _ := ParseConfig(nil); cfg.Headline != finding.Defaults() {
		t.Errorf("empty config: headline %+v, want the defaults", cfg.Headline)
	}
}

func TestRetryAt(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	resp := func(h http.Header) *http.Response {
		return &http.Response{StatusCode: http.StatusForbidden, Header: h, Request: &http.Request{}}
	}
	tests := []struct {
		name  string
		err   error
		want  time.Time
		ok    bool
		waits int
	}{
		{"retry-after", &github.ErrorResponse{Response: resp(http.Header{"Retry-After": {"30"}})}, now.Add(30 * time.Second), true, 0},
		{"rate limit reset", &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: now.Add(time.Minute)}}, Response: resp(http.Header{})}, now.Add(time.Minute), true, 0},
		{"reset header", &github.ErrorResponse{Response: resp(http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000090"}})}, now.Add(90 * time.Second), true, 0},
		{"secondary limit, retry-after", &github.AbuseRateLimitError{RetryAfter: ptr(5 * time.Second), Response: resp(http.Header{"Retry-After": {"5"}})}, now.Add(5 * time.Second), true, 0},
		{"secondary limit, reset", &github.AbuseRateLimitError{Response: resp(http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000100"}})}, now.Add(100 * time.Second), true, 0},
		{"secondary limit, no header: a minute", &github.AbuseRateLimitError{Response: resp(http.Header{})}, now.Add(time.Minute), true, 0},
		{"429, no header: a minute", &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{}, Request: &http.Request{}}}, now.Add(time.Minute), true, 0},
		{"secondary limit, no header, third wait: 8 minutes", &github.AbuseRateLimitError{Response: resp(http.Header{})}, now.Add(8 * time.Minute), true, 3},
		{"secondary limit, no header, many waits: 16 minutes", &github.AbuseRateLimitError{Response: resp(http.Header{})}, now.Add(16 * time.Minute), true, 40},
		{"secondary limit, retry-after, second wait: doubled", &github.AbuseRateLimitError{RetryAfter: ptr(5 * time.Second), Response: resp(http.Header{"Retry-After": {"5"}})}, now.Add(10 * time.Second), true, 1},
		{"secondary limit, retry-after, eighth wait", &github.AbuseRateLimitError{RetryAfter: ptr(5 * time.Second), Response: resp(http.Header{"Retry-After": {"5"}})}, now.Add(640 * time.Second), true, 7},
		{"secondary limit, retry-after, many waits: 16 minutes", &github.AbuseRateLimitError{RetryAfter: ptr(5 * time.Second)}, now.Add(16 * time.Minute), true, 40},
		{"secondary limit, retry-after beyond the cap is kept", &github.AbuseRateLimitError{RetryAfter: ptr(time.Hour)}, now.Add(time.Hour), true, 3},
		{"primary limit's retry-after is not doubled", &github.ErrorResponse{Response: resp(http.Header{"Retry-After": {"5"}})}, now.Add(5 * time.Second), true, 7},
		{"5xx", &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{}, Request: &http.Request{}}}, time.Time{}, false, 0},
		{"plain", errors.New("boom"), time.Time{}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := RetryAt(tt.err, now, tt.waits)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("RetryAt = %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkExtractReport compares reading a real report out of its zip with
// the baseline of only opening the archive.
func BenchmarkExtractReport(b *testing.B) {
	data := githubfake.Zip(b, map[string][]byte{"report.json": seed(b)})
	b.Run("baseline-open-zip", func(b *testing.B) {
		for b.Loop() {
			if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("extract-and-decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := extractReport(data, DefaultLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
	bomb := githubfake.Zip(b, map[string][]byte{"report.json": bytes.Repeat([]byte("0"), 64<<20)})
	b.Run("refuse-64MiB-bomb", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := extractReport(bomb, DefaultLimits); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// TestPublicReason: an error shown in a given-up check loses URL queries,
// where signed artifact URLs carry their signature.
func TestPublicReason(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`download artifact: Get "https://blob.example/a.zip?sig=SECRET&se=2026": EOF`, `download artifact: Get "https://blob.example/a.zip?…": EOF`},
		{"list artifacts: GET https://api.github.com/repos/o/r/actions/runs/1/artifacts?per_page=100: 502 Server Error []",
			"list artifacts: GET https://api.github.com/repos/o/r/actions/runs/1/artifacts?… 502 Server Error"},
		{"no url here", "no url here"},
	}
	for _, tt := range tests {
		if got := publicReason(errors.New(tt.in)); got != tt.want || strings.Contains(got, "SECRET") {
			t.Errorf("publicReason(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
