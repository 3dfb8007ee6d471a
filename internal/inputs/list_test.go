package inputs

import (
	"reflect"
	"testing"
)

func TestList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		ignoreComma bool
		want        []Item
	}{
		{name: "empty", in: "", want: nil},
		{name: "csv", in: "linux/amd64,linux/arm64", want: []Item{{"linux/amd64", 1}, {"linux/arm64", 1}}},
		{name: "lines", in: "a:1\n\nb:2\n", want: []Item{{"a:1", 1}, {"b:2", 3}}},
		{name: "mixed", in: "a, b\nc", want: []Item{{"a", 1}, {"b", 1}, {"c", 2}}},
		{name: "quoted comma", in: `"a,b",c`, want: []Item{{"a,b", 1}, {"c", 1}}},
		{name: "ignore comma", in: "A=1,2\nB=3", ignoreComma: true, want: []Item{{"A=1,2", 1}, {"B=3", 2}}},
		{name: "comment", in: "# not me\nA=1", ignoreComma: true, want: []Item{{"A=1", 2}}},
		{name: "cache entry", in: "type=gha,scope=x,mode=max", ignoreComma: true, want: []Item{{"type=gha,scope=x,mode=max", 1}}},
		{name: "comma in a path", in: "\n\nkey=/tmp/a,b/secret.txt", ignoreComma: true, want: []Item{{"key=/tmp/a,b/secret.txt", 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := List(tt.in, tt.ignoreComma)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
