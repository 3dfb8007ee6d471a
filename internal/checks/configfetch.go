package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-github/v66/github"
)

// maxConfigCache caps the configurations remembered for conditional
// requests: one per repository, each a parsed Config of a file of at most
// maxConfigBytes, so the cache holds at most this many times that.
const maxConfigCache = 1024

// configCache remembers each repository's configuration with the ETag
// GitHub sent for it, so reading an unchanged file is a conditional
// request answered 304 Not Modified, which does not count against the
// installation's rate limit (GitHub REST docs, "Best practices"). It is
// written by hand rather than as an HTTP cache (such as
// gregjones/httpcache) under the whole client: that would also serve
// artifact lists and check runs from its store within their max-age, and
// the App must see those fresh.
type configCache struct {
	mu      sync.Mutex
	entries map[configKey]configEntry
}

type configKey struct {
	repoID int64
	ref    string
}

// configEntry is a file's parse: the configuration, or the error the
// check reports for it.
type configEntry struct {
	etag string
	cfg  Config
	err  error
}

func (c *configCache) get(k configKey) (configEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

func (c *configCache) put(k configKey, e configEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[configKey]configEntry{}
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= maxConfigCache {
		for old := range c.entries { // any one: a miss costs one call
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = e
}

func (c *configCache) drop(k configKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// readConfig reads ConfigPath of repository owner/name (id repoID) at ref,
// asking with the ETag of the copy it has, if any. A missing file is the
// default configuration (and is asked for again next time: GitHub gives no
// validator for a 404). An invalid file is a *ConfigError.
func (c *configCache) readConfig(ctx context.Context, cl requestsAPI, repoID int64, owner, name, ref string) (Config, error) {
	k := configKey{repoID, ref}
	cached, have := c.get(k)
	u := fmt.Sprintf("repos/%s/%s/contents/%s?ref=%s", url.PathEscape(owner), url.PathEscape(name), ConfigPath, url.QueryEscape(ref))
	req, err := cl.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Config{}, fmt.Errorf("get %s: %w", ConfigPath, err)
	}
	if have && cached.etag != "" {
		req.Header.Set("If-None-Match", cached.etag)
	}
	// Raw first: a directory at the path answers with a list.
	var raw json.RawMessage
	resp, err := cl.Do(ctx, req, &raw)
	switch {
	case resp != nil && resp.StatusCode == http.StatusNotModified && have:
		return cached.cfg, cached.err
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		c.drop(k)
		return ParseConfig(nil)
	case err != nil:
		return Config{}, err
	}
	e := configEntry{etag: resp.Header.Get("ETag")}
	e.cfg, e.err = parseContent(raw)
	if e.etag != "" {
		c.put(k, e)
	}
	return e.cfg, e.err
}

// parseContent parses the contents answer for the configuration file.
func parseContent(raw json.RawMessage) (Config, error) {
	var fc *github.RepositoryContent
	if err := json.Unmarshal(raw, &fc); err != nil || fc == nil {
		return Config{}, &ConfigError{errors.New("is not a file")}
	}
	text, err := fc.GetContent()
	if err != nil {
		return Config{}, &ConfigError{err}
	}
	cfg, err := ParseConfig([]byte(text))
	if err != nil {
		return cfg, &ConfigError{err}
	}
	return cfg, nil
}
