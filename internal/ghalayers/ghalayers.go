// Package ghalayers keeps imagesize's layer records in the GitHub Actions
// cache, where the next run of the repository finds them: a fresh runner has
// no user cache, and without them every CI build re-reads its base image's
// layers to list their files.
//
// # Keys and scopes
//
// A record is keyed by its layer's blob digest (stageline-layer-1-sha256:…),
// not by the build's scope= attr: a digest fixes the blob's bytes, so one
// record serves every build of the repository, as BuildKit's own gha blobs
// (buildkit-blob-1-…) serve every scope while only its index is scoped.
//
// # Trust
//
// A record read from the cache is untrusted input. The cache service scopes
// entries by the Git ref that wrote them: a run reads its own ref's entries,
// then its base branch's and the default branch's; it writes only its own
// ref's. A pull request from a fork writes to refs/pull/N/merge, which no
// other ref's runs read. So a record planted by a fork changes only reports
// of that same pull request, whose workflow the fork already controls (it
// could write any report), and never what a push to a branch reports. On top
// of that, a record is used only when
//   - the entry's key is exactly the one asked for (the service also matches
//     keys by prefix, and a longer key could be anyone's),
//   - it names, inside, the digest it is kept for,
//   - it is at most MaxRecord bytes, and
//   - it decodes to what reading a tar could have found (imagesize checks).
//
// Any other record is read past and the layer is read from the builder, as
// with no record at all; the read's record is then saved only when the
// scope holds none for that key (the service lets one job own a key).
//
// # Registry cache
//
// Only type=gha entries are used. A registry cache's credentials live in
// buildkitd's session (the docker config it is given), not in this process,
// and keeping records there would mean pushing a manifest of our own next to
// the cache's; with no GitHub cache the local user cache (one file per layer)
// stays the only one.
package ghalayers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	actionscache "github.com/tonistiigi/go-actions-cache"

	"github.com/stageline/stageline/internal/ghacache"
	"github.com/stageline/stageline/internal/imagesize"
)

// keyPrefix starts every record's key; the number changes with the envelope.
const keyPrefix = "stageline-layer-1-"

// envelope starts every stored record, before the digest it is kept for.
const envelope = "stageline-layer-record-1\n"

// Bounds: a record past MaxRecord is neither saved nor read (a 30,000-file
// Debian layer's record takes about 2 MB); one build looks up at most
// maxLoads and saves at most maxSaves records, so that an image of
// thousands of layers costs a bounded number of requests.
const (
	MaxRecord = 16 << 20
	maxLoads  = 256
	maxSaves  = 64
)

// requestTimeout bounds one lookup, download or save, retries included: a
// slow cache costs a build at most this much before the layer is read from
// the builder instead.
const requestTimeout = 10 * time.Second

// Stats count what a Cache did, for logs and tests.
type Stats struct {
	// Hits are records found in the GitHub cache and used.
	Hits int64
	// Misses are lookups that found nothing.
	Misses int64
	// Rejected are records found but not used (see the package doc).
	Rejected int64
	// Saved are records written to the GitHub cache.
	Saved int64
	// Failed are lookups or saves that failed; after the first, the cache is
	// not asked again during this build.
	Failed int64
}

// Cache is an imagesize.LayerCache over a local one (nil for none) and the
// GitHub Actions cache: Get asks the local cache first, then the GitHub
// one, and keeps what the latter had locally too; Put keeps a record in
// both.
type Cache struct {
	local      imagesize.LayerCache
	load, save *actionscache.Cache
	log        *slog.Logger

	loads, saves           atomic.Int64
	hits, misses, rejected atomic.Int64
	saved, failed          atomic.Int64
	down                   atomic.Bool
	warnOnce               sync.Once
}

// Options configure New.
type Options struct {
	// Client makes the requests. Default: one with requestTimeout.
	Client *http.Client
	Logger *slog.Logger
}

// New returns the layer cache for a build with these resolved cache entries
// (ghacache.Plan's Imports and Exports): records are looked up when a gha
// import is there, and saved when a gha export is (so ACTIONS_CACHE_MODE
// applies as it does to the build cache). With neither, it returns local
// as it is.
func New(local imagesize.LayerCache, imports, exports []client.CacheOptionsEntry, opt Options) imagesize.LayerCache {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := opt.Client
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	c := &Cache{local: local, log: log}
	c.load = open(imports, hc, log)
	c.save = open(exports, hc, log)
	if c.load == nil && c.save == nil {
		return local
	}
	return c
}

// open is a cache client for the first usable gha entry, or nil.
func open(entries []client.CacheOptionsEntry, hc *http.Client, log *slog.Logger) *actionscache.Cache {
	for _, e := range entries {
		token, url, v2, ok := ghacache.Endpoint(e)
		if !ok {
			continue
		}
		c, err := actionscache.New(token, url, v2, actionscache.Opt{Client: hc, Timeout: requestTimeout, BackoffPool: &actionscache.BackoffPool{}})
		if err != nil {
			log.Warn("layer records in the GitHub cache: reading the runtime token", "err", err)
			return nil
		}
		return c
	}
	return nil
}

// Key is the cache key of blob's record.
func Key(blob digest.Digest) string { return keyPrefix + blob.String() }

// Stats says what the cache did so far.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Rejected: c.rejected.Load(), Saved: c.saved.Load(), Failed: c.failed.Load()}
}

// Get implements imagesize.LayerCache.
func (c *Cache) Get(ctx context.Context, blob digest.Digest) ([]byte, bool) {
	if c.local != nil {
		if b, ok := c.local.Get(ctx, blob); ok {
			return b, true
		}
	}
	if c.load == nil || c.down.Load() || blob.Validate() != nil || c.loads.Add(1) > maxLoads {
		return nil, false
	}
	b, err := c.fetch(ctx, blob)
	switch {
	case err != nil:
		c.fail(ctx, "looking up a layer's record", err)
		return nil, false
	case b == nil:
		c.misses.Add(1)
		return nil, false
	}
	data, ok := open1(b, blob)
	if !ok {
		c.rejected.Add(1)
		c.log.Debug("a layer's record in the GitHub cache is not one: read past", "digest", blob)
		return nil, false
	}
	c.hits.Add(1)
	if c.local != nil {
		c.local.Put(ctx, blob, data)
	}
	return data, true
}

// fetch downloads blob's record; nil, nil when there is none.
func (c *Cache) fetch(ctx context.Context, blob digest.Digest) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	key := Key(blob)
	e, err := c.load.Load(ctx, key)
	if err != nil || e == nil {
		return nil, err
	}
	if e.Key != key {
		// A prefix match: some other key that starts with ours.
		c.rejected.Add(1)
		return nil, nil
	}
	ra := e.Download(ctx)
	defer ra.Close()
	b, err := io.ReadAll(io.NewSectionReader(ra, 0, MaxRecord+int64(len(envelope))+int64(len(blob.String()))+2))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("downloading %s: %w", key, err)
	}
	return b, nil
}

// open1 checks a stored record's envelope and returns what it holds.
func open1(b []byte, blob digest.Digest) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(envelope))
	if !ok {
		return nil, false
	}
	name, data, ok := bytes.Cut(rest, []byte("\n"))
	if !ok || string(name) != blob.String() || len(data) > MaxRecord {
		return nil, false
	}
	return data, true
}

// seal wraps a record in its envelope.
func seal(blob digest.Digest, data []byte) []byte {
	b := make([]byte, 0, len(envelope)+len(blob.String())+1+len(data))
	b = append(b, envelope...)
	b = append(b, blob.String()...)
	b = append(b, '\n')
	return append(b, data...)
}

// Put implements imagesize.LayerCache. A failure to save costs the next
// run a read, so it is logged, not returned.
func (c *Cache) Put(ctx context.Context, blob digest.Digest, data []byte) {
	if c.local != nil {
		c.local.Put(ctx, blob, data)
	}
	if c.save == nil || c.down.Load() || len(data) > MaxRecord || blob.Validate() != nil || c.saves.Add(1) > maxSaves {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if err := c.save.Save(ctx, Key(blob), actionscache.NewBlob(seal(blob, data))); err != nil {
		if isConflict(err) {
			// Another job saved it first: the record is there.
			return
		}
		c.fail(ctx, "saving a layer's record", err)
		return
	}
	c.saved.Add(1)
}

// isConflict tells a key another job holds (v1: 409 from reserve; v2: a
// twirp already_exists) from a failure.
func isConflict(err error) bool {
	var he actionscache.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusConflict {
		return true
	}
	return errors.Is(err, os.ErrExist)
}

// fail counts a failure and stops asking the cache for the rest of the
// build: a cache that is down or refusing would otherwise cost every layer
// a timeout.
func (c *Cache) fail(ctx context.Context, what string, err error) {
	c.failed.Add(1)
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return // the build was canceled
	}
	c.down.Store(true)
	c.warnOnce.Do(func() {
		c.log.Warn("layer records in the GitHub cache: "+what+"; reading layers from the builder for the rest of this build", "err", err)
	})
}
