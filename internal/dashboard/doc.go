// Package dashboard serves the App's HTML pages of build history: a
// repository's build keys, and per build key plots of image size, duration
// by stage and cache hit ratio over time, with one build (a PR's) marked
// against the base branch. Who may read a repository is decided by an
// Access given to New; pages never say whether a repository they do not
// show exists.
//
// Cost model: a key's page reads at most KeyHistory (500) builds, each at
// most store.MaxSummaryBytes, and draws at most maxChartPlatforms + 1 +
// maxChartStages series over them (what the stored builds name beyond that
// is summed as "other", and the page says so): its values are bounded by
// 500 × 33 whatever the reports said. The repository page reads at most
// store.MaxKeysPerRepo keys, each key's latest build without its summary
// (its sizes have columns of their own). BenchmarkPagesAtCaps (app/) measures both at the
// caps.
package dashboard
