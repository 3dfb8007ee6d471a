package ghacache

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

func TestParseEntryLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []client.CacheOptionsEntry
		wantErr bool
	}{
		{name: "empty", in: "  \n\n"},
		{
			name: "gha with scope and mode",
			in:   "type=gha,scope=app,mode=max",
			want: []client.CacheOptionsEntry{{Type: "gha", Attrs: map[string]string{"scope": "app", "mode": "max"}}},
		},
		{
			name: "one entry per line, keys lower-cased, spaces trimmed",
			in:   "  type=gha, Scope=App\ntype=local,src=/tmp/cache\n",
			want: []client.CacheOptionsEntry{
				{Type: "gha", Attrs: map[string]string{"scope": "App"}},
				{Type: "local", Attrs: map[string]string{"src": "/tmp/cache"}},
			},
		},
		{
			name: "registry shorthand, several refs on a line",
			in:   "user/app:cache,user/app:main",
			want: []client.CacheOptionsEntry{
				{Type: "registry", Attrs: map[string]string{"ref": "user/app:cache"}},
				{Type: "registry", Attrs: map[string]string{"ref": "user/app:main"}},
			},
		},
		{
			name: "quoted value keeps its comma",
			in:   `type=registry,"ref=r/a:b",oci-mediatypes=true`,
			want: []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r/a:b", "oci-mediatypes": "true"}}},
		},
		{
			name: "value may contain =",
			in:   "type=gha,token=a=b",
			want: []client.CacheOptionsEntry{{Type: "gha", Attrs: map[string]string{"token": "a=b"}}},
		},
		{name: "inline", in: "type=inline", want: []client.CacheOptionsEntry{{Type: "inline", Attrs: map[string]string{}}}},
		{name: "missing type", in: "scope=app,mode=max", wantErr: true},
		{name: "unknown type", in: "type=redis,ref=x", wantErr: true},
		{name: "field without =", in: "type=gha,scope", wantErr: true},
		{name: "bad csv", in: `type=gha,"scope=a`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseEntries(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseEntries(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseEntries(%q) =\n %v\nwant\n %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   client.CacheOptionsEntry
		want string
	}{
		{name: "sorted keys", in: client.CacheOptionsEntry{Type: "gha", Attrs: map[string]string{"scope": "s", "mode": "max"}}, want: "type=gha,mode=max,scope=s"},
		{name: "secrets masked", in: client.CacheOptionsEntry{Type: "gha", Attrs: map[string]string{"token": "t0k", "ghtoken": "ght"}}, want: "type=gha,ghtoken=***,token=***"},
		{name: "no attrs", in: client.CacheOptionsEntry{Type: "inline"}, want: "type=inline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := String(tt.in); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// parseEntries parses a multi-line input with ParseEntry, line by line, as
// internal/inputs does.
func parseEntries(input string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for n, line := range strings.Split(input, "\n") {
		entries, err := ParseEntry(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, entries...)
	}
	return out, nil
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	gha := func(attrs map[string]string) client.CacheOptionsEntry {
		return client.CacheOptionsEntry{Type: TypeGHA, Attrs: attrs}
	}
	for _, tc := range []struct {
		name   string
		e      client.CacheOptionsEntry
		url    string
		v2, ok bool
	}{
		{"v2 from url_v2", gha(map[string]string{"token": "t", "url": "http://v1/", "url_v2": "http://v2/", "version": "2"}), "http://v2/", true, true},
		{"version=1 keeps url", gha(map[string]string{"token": "t", "url": "http://v1/", "url_v2": "http://v2/", "version": "1"}), "http://v1/", false, true},
		{"url_v2 without version", gha(map[string]string{"token": "t", "url_v2": "http://v2/"}), "http://v2/", true, true},
		{"version=2 on url", gha(map[string]string{"token": "t", "url": "http://v1/", "version": "2"}), "http://v1/", true, true},
		{"no token", gha(map[string]string{"url": "http://v1/", "version": "1"}), "http://v1/", false, false},
		{"no url", gha(map[string]string{"token": "t"}), "", false, false},
		{"registry", client.CacheOptionsEntry{Type: TypeRegistry, Attrs: map[string]string{"ref": "r", "token": "t", "url": "u"}}, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, url, v2, ok := Endpoint(tc.e)
			if ok != tc.ok || (ok && (url != tc.url || v2 != tc.v2)) {
				t.Errorf("Endpoint = %q v2=%v ok=%v, want %q v2=%v ok=%v", url, v2, ok, tc.url, tc.v2, tc.ok)
			}
		})
	}
}
