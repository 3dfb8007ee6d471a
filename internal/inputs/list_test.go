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
		want        []string
	}{
		{name: "empty", in: "", want: nil},
		{name: "csv", in: "linux/amd64,linux/arm64", want: []string{"linux/amd64", "linux/arm64"}},
		{name: "lines", in: "a:1\n\nb:2\n", want: []string{"a:1", "b:2"}},
		{name: "mixed", in: "a, b\nc", want: []string{"a", "b", "c"}},
		{name: "quoted comma", in: `"a,b",c`, want: []string{"a,b", "c"}},
		{name: "ignore comma", in: "A=1,2\nB=3", ignoreComma: true, want: []string{"A=1,2", "B=3"}},
		{name: "comment", in: "# not me\nA=1", ignoreComma: true, want: []string{"A=1"}},
		{name: "cache entry", in: "type=gha,scope=x,mode=max", ignoreComma: true, want: []string{"type=gha,scope=x,mode=max"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := List(tt.in, tt.ignoreComma)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
