package ghacache

import (
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/client"
)

// Cache backend types BuildKit knows. Entries of other types are rejected early, because
// buildkitd would otherwise fail the whole solve with "unknown cache exporter".
const (
	TypeGHA      = "gha"
	TypeRegistry = "registry"
	TypeLocal    = "local"
	TypeInline   = "inline"
	TypeS3       = "s3"
	TypeAzblob   = "azblob"
)

var knownTypes = []string{TypeGHA, TypeRegistry, TypeLocal, TypeInline, TypeS3, TypeAzblob}

// ParseEntry parses one item of a cache-from or cache-to input (one line,
// internal/inputs splits the lines) the way docker/build-push-action does:
// a CSV list of key=value fields with a required type= field, or a line
// without any "=" as a comma-separated list of registry references (buildx's
// shorthand, "user/app:cache" ≡ "type=registry,ref=user/app:cache"). Keys are
// lower-cased; values are kept as written. A blank item gives no entries.
func ParseEntry(item string) ([]client.CacheOptionsEntry, error) {
	line := strings.TrimSpace(item)
	if line == "" {
		return nil, nil
	}
	fields, err := csvFields(line)
	if err != nil {
		return nil, fmt.Errorf("cache entry %q: %w", line, err)
	}
	if !strings.Contains(line, "=") {
		var out []client.CacheOptionsEntry
		for _, ref := range fields {
			if ref = strings.TrimSpace(ref); ref != "" {
				out = append(out, client.CacheOptionsEntry{Type: TypeRegistry, Attrs: map[string]string{"ref": ref}})
			}
		}
		return out, nil
	}
	e, err := parseEntry(fields)
	if err != nil {
		return nil, fmt.Errorf("cache entry %q: %w", line, err)
	}
	return []client.CacheOptionsEntry{e}, nil
}

func csvFields(line string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	return r.Read()
}

func parseEntry(fields []string) (client.CacheOptionsEntry, error) {
	e := client.CacheOptionsEntry{Attrs: map[string]string{}}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return e, fmt.Errorf("field %q is not key=value", f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "type" {
			e.Type = v
			continue
		}
		e.Attrs[k] = v
	}
	if e.Type == "" {
		return e, fmt.Errorf("type= is required")
	}
	if !slices.Contains(knownTypes, e.Type) {
		return e, fmt.Errorf("unknown cache type %q (known: %s)", e.Type, strings.Join(knownTypes, ", "))
	}
	return e, nil
}

// validate reports the attributes BuildKit's client requires before it contacts the
// daemon, so a bad input fails while inputs are parsed rather than mid-build.
func validate(e client.CacheOptionsEntry, dir Direction) error {
	switch {
	case e.Type == TypeRegistry && e.Attrs["ref"] == "":
		return fmt.Errorf("type=registry requires ref=")
	case e.Type == TypeLocal && dir == Import && e.Attrs["src"] == "":
		return fmt.Errorf("type=local in cache-from requires src=")
	case e.Type == TypeLocal && dir == Export && e.Attrs["dest"] == "":
		return fmt.Errorf("type=local in cache-to requires dest=")
	case e.Attrs["mode"] != "" && dir == Export && e.Attrs["mode"] != "min" && e.Attrs["mode"] != "max":
		return fmt.Errorf("mode=%q: want min or max", e.Attrs["mode"])
	}
	return nil
}

// String renders an entry as CSV with sorted keys and secrets masked, for logs and the
// report. It never prints token or ghtoken values.
func String(e client.CacheOptionsEntry) string {
	var b strings.Builder
	b.WriteString("type=" + e.Type)
	for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
		v := e.Attrs[k]
		if k == attrToken || k == attrGHToken {
			v = "***"
		}
		b.WriteString("," + k + "=" + v)
	}
	return b.String()
}

func clone(e client.CacheOptionsEntry) client.CacheOptionsEntry {
	c := client.CacheOptionsEntry{Type: e.Type, Attrs: maps.Clone(e.Attrs)}
	if c.Attrs == nil {
		c.Attrs = map[string]string{}
	}
	return c
}

func equal(a, b client.CacheOptionsEntry) bool {
	return a.Type == b.Type && maps.Equal(a.Attrs, b.Attrs)
}

// Endpoint is where a resolved type=gha entry points, read the way buildkitd's gha
// backend reads the attrs (cache/remotecache/gha, v0.34): url_v2 unless version=1, else
// url; v2 when url_v2 is used or version is 2 or more. ok is false for other types and
// for an entry without a token or URL (Resolve skips those).
func Endpoint(e client.CacheOptionsEntry) (token, url string, v2, ok bool) {
	if e.Type != TypeGHA {
		return "", "", false, false
	}
	token = e.Attrs[attrToken]
	version := e.Attrs[attrVersion]
	if u := e.Attrs[attrURLV2]; u != "" && version != "1" {
		url, v2 = u, true
	} else {
		url = e.Attrs[attrURL]
		v2 = version != "" && version != "0" && version != "1"
	}
	return token, url, v2, token != "" && url != ""
}
