package report

import "time"

// SchemaVersion is the version of the report format written by this code.
// Readers refuse reports with another version rather than guess at fields.
const SchemaVersion = 1

// Build statuses.
const (
	StatusSuccess  = "success"
	StatusFailure  = "failure"
	StatusCanceled = "canceled"
)

// Report is one build's report: what ran, how long it took, what came from
// the cache and what the image weighs. Field names are part of the public
// contract (docs/report.schema.json): other tools read them.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Build         Build     `json:"build"`
	Git           *Git      `json:"git,omitempty"`
	Steps         []Step    `json:"steps"`
	Stages        []Stage   `json:"stages"`
	Cache         Cache     `json:"cache"`
	Images        []Image   `json:"images"`
	Warnings      []Warning `json:"warnings"`
	Error         *Error    `json:"error,omitempty"`
	// FileRecords holds, by SourceInput.Digest, the compact per-file record
	// of each local-context selection a step read (filerecord.go), so that
	// a later report can name the files that changed.
	FileRecords map[string]string `json:"file_records,omitempty"`
	// Contexts are the local contexts the build sent and how much of each
	// its steps read (contextuse.go); absent when not measured.
	Contexts []ContextUse `json:"contexts,omitempty"`
}

// Build describes the build as a whole.
type Build struct {
	Dockerfile string    `json:"dockerfile"`
	Context    string    `json:"context"`
	Target     string    `json:"target,omitempty"`
	Platforms  []string  `json:"platforms,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// DurationMS is the wall time of the solve in milliseconds.
	DurationMS int64  `json:"duration_ms"`
	Status     string `json:"status"`
	// StepMapping is how steps were tied to Dockerfile instructions: "llb"
	// (from the build's LLB definitions and source map: exact), "names"
	// (from BuildKit's vertex names), "" in reports from before it was
	// recorded.
	StepMapping string `json:"step_mapping,omitempty"`
	// Frontend is the frontend a "# syntax=" directive handed the build to,
	// "" when the built-in Dockerfile frontend ran it.
	Frontend string `json:"frontend,omitempty"`
	// NoCache is true when the build was asked to use no cache at all;
	// NoCacheFilter lists the stages it was asked to build without it.
	NoCache       bool     `json:"no_cache,omitempty"`
	NoCacheFilter []string `json:"no_cache_filter,omitempty"`
}

// Git is where the build ran, taken from the GitHub Actions environment.
type Git struct {
	Repository string `json:"repository,omitempty"`
	SHA        string `json:"sha,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Event      string `json:"event,omitempty"`
	RunID      int64  `json:"run_id,omitempty"`
	RunAttempt int64  `json:"run_attempt,omitempty"`
	Workflow   string `json:"workflow,omitempty"`
}

// Step is one BuildKit vertex.
type Step struct {
	Digest   string `json:"digest"`
	Name     string `json:"name"`
	Stage    string `json:"stage,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Index is BuildKit's "2/3": the step's position in its stage.
	Index       string `json:"index,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	// Line is the step's first line in the Dockerfile, 0 when unknown.
	Line      int        `json:"line,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	// DurationMS is the union of the vertex's start/complete intervals.
	DurationMS int64  `json:"duration_ms"`
	Cached     bool   `json:"cached"`
	Error      string `json:"error,omitempty"`
	// Internal marks BuildKit's own work ([internal], [auth], exporters,
	// cache import/export): never counted in cache figures.
	Internal bool `json:"internal,omitempty"`
	// Inputs is what the step's cache key depends on; nil when unknown.
	Inputs *StepInputs `json:"inputs,omitempty"`
}

// Stage is one Dockerfile stage on one platform.
type Stage struct {
	Name     string `json:"name"`
	Platform string `json:"platform,omitempty"`
	Base     string `json:"base,omitempty"`
	// BaseRef and BaseDigest are the base as resolved: an image reference
	// or the named context's name, and the manifest digest it resolved to.
	BaseRef    string `json:"base_ref,omitempty"`
	BaseDigest string `json:"base_digest,omitempty"`
	// StepsTotal counts the stage's steps that can come from the cache:
	// user steps, FROM excluded. Over all stages they add up to
	// Cache.UserSteps, and StepsCached to Cache.UserStepsCached.
	StepsTotal  int `json:"steps_total"`
	StepsCached int `json:"steps_cached"`
	// DurationMS is wall time: the union of its steps' intervals.
	DurationMS int64 `json:"duration_ms"`
	Critical   bool  `json:"critical"`
}

// Cache summarises cache reuse over user steps only.
type Cache struct {
	UserSteps       int       `json:"user_steps"`
	UserStepsCached int       `json:"user_steps_cached"`
	HitRatio        float64   `json:"hit_ratio"`
	Import          []CacheOp `json:"import,omitempty"`
	Export          []CacheOp `json:"export,omitempty"`
}

// CacheOp is one cache import or export as seen in the status stream.
type CacheOp struct {
	Type  string `json:"type"`
	Scope string `json:"scope,omitempty"`
	Mode  string `json:"mode,omitempty"`
	// Protocol is the gha cache API version used, "v1" or "v2" (empty for other types):
	// a runner may serve only v1 next to a v4 artifact service (ghacache.ProbeV2).
	Protocol   string `json:"protocol,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// Status is CacheOK, CacheSkipped or CacheFailed.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Image is the final image for one platform.
type Image struct {
	Name                  string  `json:"name,omitempty"`
	Digest                string  `json:"digest"`
	ConfigDigest          string  `json:"config_digest"`
	Platform              string  `json:"platform,omitempty"`
	CompressedSizeBytes   int64   `json:"compressed_size_bytes"`
	UncompressedSizeBytes int64   `json:"uncompressed_size_bytes"`
	Layers                []Layer `json:"layers"`
	// Content is the filesystem once all layers are applied; nil when the
	// layers were not read (content.go).
	Content *ImageContent `json:"content,omitempty"`
}

// Layer is one filesystem layer and the instruction that made it.
type Layer struct {
	Digest    string `json:"digest"`
	SizeBytes int64  `json:"size_bytes"`
	// UncompressedSizeBytes is 0 when it could not be measured.
	UncompressedSizeBytes int64  `json:"uncompressed_size_bytes,omitempty"`
	CreatedBy             string `json:"created_by,omitempty"`
	Stage                 string `json:"stage,omitempty"`
	Instruction           string `json:"instruction,omitempty"`
	Line                  int    `json:"line,omitempty"`
	// Content is what the layer's tar holds; nil when it was not read.
	Content *LayerContent `json:"content,omitempty"`
}

// Warning is one Dockerfile build-check warning.
type Warning struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	URL     string `json:"url,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
}

// Error is why a build failed.
type Error struct {
	Step    string `json:"step,omitempty"`
	Message string `json:"message"`
	LogTail string `json:"log_tail,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
}
