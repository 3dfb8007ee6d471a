// Package store is the App's durable state over database/sql: the queue of
// webhook deliveries waiting to be processed, the baseline reports of trusted
// push builds, the check runs the App has created (so that a redelivery
// updates rather than duplicates).
//
// SQLite (pure Go, modernc.org/sqlite) is the default; a postgres:// URL
// selects PostgreSQL through pgx's database/sql driver. Both run the same
// SQL except for the few lines each dialect needs of its own.
package store
