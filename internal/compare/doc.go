// Package compare is the analysis of a build report against a baseline: the
// diff of stages, images, layers, steps and files (Diff), and the cause of
// each stage's first cache miss (Explain, down to the files of a COPY:
// FileChanges), as data. Analyze works both out once per run for every
// view to render; this package renders nothing
// (internal/render does, escaping the reports' strings), and its plain-text
// fields (Miss.Detail, Why.Reason, Miss.DependsOn) are data documented in
// docs/report.md ("stageline diff"), not Markdown.
package compare
