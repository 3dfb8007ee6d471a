// Package workflowlint checks the repository's GitHub Actions files
// (action.yml, .github/workflows and the workflows in docs) with GitHub's own
// parser, the npm package @actions/workflow-parser; it holds only tests.
package workflowlint
