package webauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Ledger remembers spent one-time values for every replica of the App: a
// signed-out session and a used sign-in state. *store.Store is one (the
// spent table), shared by the replicas through their database. Ids are
// hashes, never a token or state itself.
type Ledger interface {
	// Spend records id as spent until until; first is false when it
	// already was, by this replica or another.
	Spend(ctx context.Context, id string, until time.Time) (first bool, err error)
	// Spent reports whether id was spent.
	Spent(ctx context.Context, id string) (bool, error)
}

// ledgerTimeout bounds one ledger read or write.
const ledgerTimeout = 5 * time.Second

// sessionID and stateID name a session's token and a sign-in state in the
// ledger, apart from each other.
func sessionID(tok string) string { return ledgerID("s:", "stageline session\x00"+tok) }
func stateID(state string) string { return ledgerID("o:", "stageline state\x00"+state) }

func ledgerID(prefix, v string) string {
	sum := sha256.Sum256([]byte(v))
	return prefix + hex.EncodeToString(sum[:])
}

// memLedger is a Ledger for one process: Options.Ledger's default, right
// for a single replica and for tests.
type memLedger struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]time.Time
}

func newMemLedger(now func() time.Time) *memLedger {
	return &memLedger{now: now, m: map[string]time.Time{}}
}

func (l *memLedger) Spend(_ context.Context, id string, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, u := range l.m {
		if u.Before(now) {
			delete(l.m, k)
		}
	}
	if u, ok := l.m[id]; ok && !u.Before(now) {
		return false, nil
	}
	l.m[id] = until
	return true, nil
}

func (l *memLedger) Spent(_ context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u, ok := l.m[id]
	return ok && !u.Before(l.now()), nil
}
