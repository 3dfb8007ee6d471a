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
//
// The organisation page (org.go) reads at most OrgMaxRepos (2,000)
// repositories' names and asks Access about them (in bulk when it can:
// webauth's GitHub lists), then the roll-ups of at most OrgMaxKeys
// (20,000) build keys (internal/rollup: one row per key, written with each
// build, about 1 kB each without advice), in one query per 500
// repositories (store.EachRollup): never a key's history. Decoded
// roll-ups are kept (orgmemo.go, at most 40,000 keys) while their
// repository's roll-up version (store.RollupVersions, one index read per
// 500 repositories) is unchanged, so a view decodes the changed
// repositories' only. It ranks the keys from their roll-ups, keeps the
// best OrgAdvice advice items as it goes, and makes lines, links and
// sparklines for the OrgMaxRows (400) rows it lists only.
// BenchmarkOrgPage measures it at 1,000 repositories × 10 keys against the
// key page.
package dashboard
