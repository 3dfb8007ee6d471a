package report

// StepInputs is what one step's cache key depends on, read from the LLB the
// build's Dockerfile frontend solved (build.step_mapping "llb"). Values of
// build args and ENV are never kept, only their digests.
type StepInputs struct {
	// Key digests everything below and the step's own operation (command,
	// mounts, paths, flags), with each input replaced by its own Key: two
	// steps with equal Keys had the same cache key inputs, as far as the
	// client can see them. Session-specific parts of local sources are left
	// out, so the same context gives the same Key in every build.
	Key string `json:"key"`
	// Sources are the files a COPY/ADD reads from a local context.
	Sources []SourceInput `json:"sources,omitempty"`
	// Reads are the stages and images a COPY --from or RUN --mount=from
	// reads: "stage NAME" or an image reference with its digest.
	Reads []string `json:"reads,omitempty"`
	// Env are the build args and environment variables a RUN sees.
	Env []EnvInput `json:"env,omitempty"`
	// Parents are the step's inputs other than local sources: the earlier
	// step it runs on, the stage or image it copies from, its base image.
	Parents []Parent `json:"parents,omitempty"`
}

// SourceInput is the selection of files one COPY/ADD source takes from a
// local context, after .dockerignore, globs, --exclude and --parents.
type SourceInput struct {
	// Context is "context" for the build context, else the named context.
	Context string `json:"context"`
	// Path is the source path as the LLB has it.
	Path string `json:"path"`
	// Digest covers each selected entry's path, type, permission bits,
	// xattrs, symlink target and content, directories included (not
	// owners, which BuildKit does not send): equal digests mean the same
	// files.
	Digest string `json:"digest"`
	// Files counts the selected regular files and symlinks (not
	// directories).
	Files int `json:"files"`
}

// EnvInput is one variable a step sees, without its value.
type EnvInput struct {
	Name string `json:"name"`
	// Kind is "build-arg" when the stage declares it with ARG, else "env".
	Kind string `json:"kind"`
	// Digest is sha256 of the value, truncated to 16 hex digits: enough to
	// tell a change, too short to be worth guessing values against.
	Digest string `json:"digest"`
}

// Parent is one input of a step.
type Parent struct {
	// Stage and Line name an input that is a Dockerfile step (Line 0 when
	// the step has no source range).
	Stage string `json:"stage,omitempty"`
	Line  int    `json:"line,omitempty"`
	// Source names an input that is an image or a named context:
	// "REF@DIGEST".
	Source string `json:"source,omitempty"`
	// Name is the input's vertex name.
	Name string `json:"name,omitempty"`
	Key  string `json:"key"`
}
