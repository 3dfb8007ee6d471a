// Package store is the App's durable state over database/sql: the queue of
// webhook deliveries waiting to be processed, the baseline reports of
// trusted push builds, the history of processed builds per build key (what
// the dashboard plots and the check's verdict reads), the check runs the App
// has created (so that a redelivery updates rather than duplicates), the
// repositories' names and build keys, and the dashboard's spent one-time
// values (signed-out sessions and used sign-in states, as hashes), which
// every replica reads, and each build key's roll-up for the organisation
// page, made by a Roller (WithRoller) in the transaction that changes the
// key's builds.
//
// It keeps and selects; it does not judge. Which builds are a branch's
// usual ones, and how a build compares with them, is internal/history's
// (BuildFilter only applies a selection it is given).
//
// SQLite (pure Go, modernc.org/sqlite) is the default, written through one
// group-committing writer; a postgres:// URL selects PostgreSQL through
// pgx's database/sql driver. Both run the same
// SQL except for the few lines each dialect needs of its own. The schema is
// made or upgraded in one transaction under an advisory lock (BEGIN
// IMMEDIATE on SQLite), so any number of replicas may open one database at
// once.
//
// Cost model: build history is shaped to caps before it is written (see
// limits.go), since a fork's report names its stages and platforms and a
// fork's workflow its build keys: at most MaxStages stages and MaxPlatforms
// platforms per build (the rest summed into OtherStages / OtherPlatforms and
// counted), MaxSummaryBytes per stored summary, MaxKeysPerRepo build keys
// per repository (a new key beyond it is a *KeyLimitError), and the decoded
// summaries kept in memory bounded in bytes (summaryCacheBytes, 32 MiB). A
// key's history read of n builds is then at most n × MaxSummaryBytes, and a
// repository's keys at most MaxKeysPerRepo rows. Trusted and untrusted
// builds are pruned apart (PruneBuilds), so untrusted ones never evict
// trusted history.
package store
