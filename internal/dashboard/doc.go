// Package dashboard serves the App's HTML pages of build history: a
// repository's build keys, and per build key plots of image size, duration
// by stage and cache hit ratio over time, with one build (a PR's) marked
// against the base branch. Who may read a repository is decided by an
// Access given to New; pages never say whether a repository they do not
// show exists.
package dashboard
