package store

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// checkpointEvery is how often the WAL is copied back into a SQLite
// database file.
const checkpointEvery = time.Second

// checkpointer copies SQLite's WAL into the database file in the
// background. SQLite's automatic checkpoint runs inside whichever commit
// crosses the WAL's size threshold, adding its writes and fsyncs to that
// commit and so to the webhook requests waiting on it: the outliers of
// intake latency. Automatic checkpoints are off (wal_autocheckpoint=0) and
// this runs PASSIVE checkpoints on a reader connection instead, which never
// block the writer.
type checkpointer struct {
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			var busy, logFrames, done int
			err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
			cancel()
			if err != nil {
				log.Warn("sqlite checkpoint", "err", err)
			}
		}
	}()
	return c
}

// close stops the checkpointer; the final checkpoint is SQLite's own, when
// the last connection closes.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
