// Package workflowlint checks the repository's GitHub Actions files with
// GitHub's own parser, the npm package @actions/workflow-parser: action.yml,
// .github/workflows, and every workflow or action metadata file, or fenced
// YAML block in Markdown, anywhere else (docs, README); it holds only tests.
package workflowlint
